// The record a read step produces: plain numbers and arrays, so that it serialises as JSON and
// crosses to a worker or a page unchanged. Non-finite values stay as NaN / ±Infinity.

/** Per-channel mean and (biased) variance of a tensor over every axis but the channel axis. */
export interface ChannelStats {
  mean: number[];
  var: number[];
}

/** Statistics of a post-ReLU activation. */
export interface ActivationStats {
  /** Fraction of elements that are exactly zero: units the ReLU switched off for this batch. */
  deadFraction: number;
  /** Mean and (biased) standard deviation over all elements. */
  mean: number;
  std: number;
}

/** What one probed layer reported on a read step. */
export interface LayerRecord {
  /** The layer's class (`BatchNorm2d`, `ReLU`, ...). */
  type: string;
  /** Position among the probed layers in the order their forward finished on this step. */
  order: number;
  /** Norm layers: per-channel batch statistics of the input. */
  input?: ChannelStats;
  /** Per-channel batch statistics of the output (a norm's is pre-ReLU: the ReLU is a module of its own). */
  output: ChannelStats;
  /** Norm layers tracking running statistics: the running mean and variance after the step. */
  running?: ChannelStats;
  /** Norm layers with an affine transform: the scale γ and shift β after the step (flattened). */
  weight?: number[];
  bias?: number[];
  /** ReLU modules only (a norm's output is pre-ReLU). */
  activation?: ActivationStats;
  /**
   * Norm layers: how far the input distribution moved since the previous read (see
   * `covariateShift`); null on the first read of the layer.
   */
  covariateShift?: number | null;
}

/** What one parameter reported on a read step. */
export interface ParamRecord {
  /** ‖∇w‖₂ before the optimizer step; null when the parameter had no gradient. */
  gradNorm: number | null;
  /** ‖w‖₂ at the end of the step. */
  weightNorm: number;
  /** ‖Δw‖₂ of the optimizer step; null unless the loop called before/afterOptimizerStep. */
  updateNorm: number | null;
  /** ‖Δw‖₂ / ‖w‖₂ (w after the step, as `weightNorm`); null without `updateNorm` or where ‖w‖ = 0. */
  updateRatio: number | null;
}

/** A histogram of one layer's activations on a read step. */
export interface HistogramRecord {
  /** Which tensor of the layer was counted. */
  of: 'input' | 'output';
  bins: number;
  /** The range the counts cover (null before a range is known). */
  min: number | null;
  max: number | null;
  /** Counts per bin (torch.histc); null on a read that had no range yet. */
  counts: number[] | null;
  /** Elements of the tensor, and how many of them fell in [min, max] (NaN is never counted). */
  total: number;
  counted: number | null;
  /** The tensor's own smallest and largest values on this step (the next read's range when none is fixed). */
  observedMin: number;
  observedMax: number;
}

/** Everything one read step reported; sinks receive these. */
export interface StatsRecord {
  /** The training step (see `Probes.stepIndex`). */
  step: number;
  /** By the layer's dotted name in the model. */
  layers: Record<string, LayerRecord>;
  /** By the parameter's dotted name. */
  params: Record<string, ParamRecord>;
  /** By the layer's dotted name. */
  histograms: Record<string, HistogramRecord>;
  /** Layers with any non-finite statistic, in forward order: the first is where it started. */
  nonFinite: string[];
  /** Parameters whose gradient or weight norm is non-finite, in the model's order. */
  nonFiniteParams: string[];
}

/** Receives the records of read steps, in step order. */
export interface StatsSink {
  /** Called once per record; a returned promise is awaited by `Probes.flush()`. */
  write(record: StatsRecord): void | Promise<void>;
  /** Resolves when everything written so far is stored. */
  flush?(): Promise<void>;
}
