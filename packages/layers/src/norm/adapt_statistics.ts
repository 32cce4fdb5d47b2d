// What re-estimating batch-norm statistics shares (preciseBatchNorm, adaptBatchNorm): finding
// the layers whose running statistics evaluation uses, reading what they use now, writing new
// statistics into their buffers, per-channel statistics of a layer's input, hooks and modes
// that are always undone, and the per-layer report of what moved.
import { assign, concat, keep, mean, mul, noGrad, shapeToString, tidy, variance, type Tensor } from '@welford/core';
import { Module, type AnyModule, type HookHandle } from '../module/module.ts';
import { readTogether } from '../training/device_sum.ts';
import { BatchNormBase } from './batch_norm.ts';
import { BatchRenorm2d } from './batch_renorm.ts';

/** Per-channel mean and variance, on the host. */
export interface ChannelStats {
  mean: Float32Array;
  var: Float32Array;
}

/** What re-estimation changed in one layer. */
export interface RunningStatsUpdate {
  /** The layer's dotted path in the model ('bn1', 'layer1.0.bn2'; '' for the model itself). */
  name: string;
  /** Its class ('BatchNorm2d'). */
  type: string;
  channels: number;
  /** Samples of the model's input behind the new statistics. */
  samples: number;
  /** Values per channel the layer received: samples × its spatial size. */
  values: number;
  /** Weight of the new data's statistics: n/(n + k) for adaptBatchNorm, 1 for preciseBatchNorm. */
  targetWeight: number;
  /** The statistics evaluation used before (bias-corrected where the layer corrects them). */
  before: ChannelStats;
  /** The new data's own statistics: the mean and unbiased variance of the layer's input. */
  target: ChannelStats;
  /** The statistics evaluation uses now. */
  after: ChannelStats;
  /** How far the means moved in units of the old standard deviation: RMS over channels of (after.mean − before.mean)/sqrt(before.var + eps). */
  meanShift: number;
  /** Geometric mean over channels of sqrt((after.var + eps)/(before.var + eps)): above 1 the layer now expects a wider input. */
  stdRatio: number;
}

/** Something the model runs on: an input tensor, or a batch holding one as `x` (a DataLoader batch). */
export type StatisticsBatch = Tensor | { x: Tensor };

/** A layer whose running statistics evaluation uses, with what normalizing its input needs. */
export interface StatisticsLayer {
  name: string;
  /** The name in messages: the path, or "the model" for the root. */
  label: string;
  module: BatchNormBase | BatchRenorm2d;
  channels: number;
  runningMean: Tensor;
  runningVar: Tensor;
  weight: Tensor | undefined;
  bias: Tensor | undefined;
  eps: number;
  /**
   * Evaluation uses buffer / scale: 1, or 1 − (1 − momentum)^t for a bias-corrected batch norm
   * that has seen t batches, so statistics s are stored as s · scale.
   */
  scale: number;
}

/**
 * The layers of `model` with running statistics: BatchNorm1d/2d (and any BatchNormBase) that
 * track them, and BatchRenorm2d. ConditionalBatchNorm2d is found through its child `bn`.
 * Throws, naming `owner`, when there is none or when a bias-corrected layer has seen no batch
 * (its evaluation ignores the buffers then, so no statistics can be stored in them).
 */
export function statisticsLayers(owner: string, model: AnyModule): StatisticsLayer[] {
  if (!(model instanceof Module)) throw new Error(`${owner}: model must be a Module, got ${String(model)}`);
  const layers: StatisticsLayer[] = [];
  for (const [name, m] of model.namedModules()) {
    const label = name === '' ? 'the model' : name;
    const add = (layer: BatchNormBase | BatchRenorm2d, runningMean: Tensor, runningVar: Tensor, scale: number): void => {
      layers.push({ name, label, module: layer, channels: layer.numFeatures, runningMean, runningVar, weight: layer.weight ?? undefined, bias: layer.bias ?? undefined, eps: layer.eps, scale });
    };
    if (m instanceof BatchRenorm2d) {
      add(m, m.runningMean, m.runningVar, 1);
    } else if (m instanceof BatchNormBase && m.runningMean && m.runningVar) {
      let scale = 1;
      if (m.biasCorrection) {
        const t = m.numBatchesTracked ?? 0;
        if (t === 0) throw new Error(`${owner}: ${label} (${m.typeName}) uses bias-corrected running statistics and has seen no training batch, so evaluation ignores its buffers (mean 0, variance 1); train it for a batch first`);
        scale = -Math.expm1(t * Math.log1p(-m.momentum!));
      }
      add(m, m.runningMean, m.runningVar, scale);
    }
  }
  if (layers.length === 0) {
    throw new Error(`${owner}: ${model.typeName} has no batch-norm layer with running statistics (BatchNorm1d/2d tracking them, BatchRenorm2d) among its ${model.modules().length} modules; group, layer and instance norm, and batch norm with trackRunningStats false, have none to re-estimate`);
  }
  return layers;
}

/** The statistics evaluation uses now, as new device tensors the caller keeps and disposes. */
export function currentStatistics(layer: StatisticsLayer): { mean: Tensor; var: Tensor } {
  return noGrad(() => {
    const stats = layer.module instanceof BatchNormBase ? layer.module.correctedRunningStats() : { mean: mul(layer.runningMean, 1), var: mul(layer.runningVar, 1) };
    return { mean: keep(stats.mean), var: keep(stats.var) };
  });
}

/** Writes statistics evaluation will use into the layer's buffers (scaled for bias correction). */
export function storeStatistics(layer: StatisticsLayer, meanValues: Tensor | Float32Array, varValues: Tensor | Float32Array): void {
  const scaled = (v: Tensor | Float32Array): Tensor | Float32Array => {
    if (layer.scale === 1) return v;
    return v instanceof Float32Array ? v.map((x) => x * layer.scale) : mul(v, layer.scale);
  };
  noGrad(() =>
    tidy(() => {
      assign(layer.runningMean, scaled(meanValues));
      assign(layer.runningVar, scaled(varValues));
    }),
  );
}

/** The model input of a batch: the tensor itself, or its `x`. */
export function inputOf(owner: string, batch: StatisticsBatch): Tensor {
  if ((batch as { isTensor?: unknown } | null)?.isTensor === true) return batch as Tensor;
  const x = (batch as { x?: { isTensor?: unknown } } | null)?.x;
  if (x?.isTensor === true) return x as Tensor;
  throw new Error(`${owner}: expected a tensor or a batch with a tensor x, got ${batch === null || typeof batch !== 'object' ? String(batch) : `an object with keys ${Object.keys(batch).join(', ') || '(none)'}`}`);
}

/** Values per channel of a layer input (N, C, ...): N times the spatial size. */
export function valuesPerChannel(x: Tensor): number {
  return x.size / x.shape[1];
}

/** Throws unless the input has more than one value per channel, which a variance needs. */
export function checkValuesPerChannel(owner: string, x: Tensor, why: string): void {
  if (valuesPerChannel(x) > 1) return;
  // Thrown inside the layer's call: the message gets the layer's path in front.
  throw new Error(`${owner}: an input of shape ${shapeToString(x.shape)} has one value per channel; ${why} needs more than one (more samples per batch)`);
}

/** Per-channel mean and variance (divisor: values − correction) of x over every axis but 1. */
export function channelMoments(x: Tensor, correction: 0 | 1): { mean: Tensor; var: Tensor } {
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  return { mean: mean(x, axes), var: variance(x, axes, { correction }) };
}

/** Per-channel mean then biased variance as one [2C] tensor. */
export function channelMomentsJoined(x: Tensor): Tensor {
  const { mean: m, var: v } = channelMoments(x, 0);
  return concat([m, v]);
}

/** Registers a forward hook on every layer; the returned function removes them all. */
export function hookLayers(layers: readonly StatisticsLayer[], hook: (layer: StatisticsLayer, index: number, x: Tensor) => Tensor): () => void {
  const handles: HookHandle[] = layers.map((layer, index) => layer.module.registerForwardHook((_m, inputs) => hook(layer, index, inputs[0])));
  return () => handles.forEach((h) => h.remove());
}

/** Every module's training flag, restored by calling the result. */
export function saveModes(model: AnyModule): () => void {
  const modes: [AnyModule, boolean][] = model.modules().map((m) => [m, m.training]);
  return () => modes.forEach(([m, mode]) => (m.training = mode));
}

/** Runs the model on a batch: the given `forward`, or `model.call` on the batch's input. */
export function forwardOf<B extends StatisticsBatch>(owner: string, model: AnyModule, forward: ((batch: B) => unknown) | undefined): (batch: B) => void {
  if (forward !== undefined && typeof forward !== 'function') throw new Error(`${owner}: forward must be a function (batch) => output, got ${String(forward)}`);
  return (batch) => {
    if (forward) forward(batch);
    else model.call(inputOf(owner, batch));
  };
}

/** The report of one layer, from host statistics. */
export function updateOf(layer: StatisticsLayer, samples: number, values: number, targetWeight: number, before: ChannelStats, target: ChannelStats, after: ChannelStats): RunningStatsUpdate {
  let shift = 0;
  let logRatio = 0;
  for (let c = 0; c < layer.channels; c++) {
    const oldVar = before.var[c] + layer.eps;
    shift += (after.mean[c] - before.mean[c]) ** 2 / oldVar;
    logRatio += 0.5 * Math.log((after.var[c] + layer.eps) / oldVar);
  }
  return {
    name: layer.name,
    type: layer.module.typeName,
    channels: layer.channels,
    samples,
    values,
    targetWeight,
    before,
    target,
    after,
    meanShift: Math.sqrt(shift / layer.channels),
    stdRatio: Math.exp(logRatio / layer.channels),
  };
}

/** Reads a pair of statistics tensors back and disposes them. */
export async function readStatistics(stats: { mean: Tensor; var: Tensor }): Promise<ChannelStats> {
  try {
    const [means, variances] = await readTogether([stats.mean, stats.var]);
    return { mean: Float32Array.from(means), var: Float32Array.from(variances) };
  } finally {
    stats.mean.dispose();
    stats.var.dispose();
  }
}
