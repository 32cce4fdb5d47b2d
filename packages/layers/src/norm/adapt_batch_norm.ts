import { add, batchNorm, keep, mul, noGrad, tidy, type Tensor } from '@welford/core';
import type { AnyModule } from '../module/module.ts';
import { readTogether } from '../training/device_sum.ts';
import {
  channelMoments,
  checkValuesPerChannel,
  currentStatistics,
  forwardOf,
  hookLayers,
  inputOf,
  saveModes,
  statisticsLayers,
  storeStatistics,
  updateOf,
  valuesPerChannel,
  type RunningStatsUpdate,
  type StatisticsBatch,
} from './adapt_statistics.ts';

/** Options of `adaptBatchNorm`. */
export interface AdaptBatchNormOptions<B extends StatisticsBatch> {
  /**
   * k >= 0: how many samples the stored (source) statistics are worth against the n new ones.
   * 0 takes the new samples' statistics alone; Infinity keeps the source statistics.
   */
  priorStrength: number;
  /** Runs the model on the samples (default: `model.call(samples)`, or `model.call(samples.x)`). */
  forward?: (batch: B) => unknown;
}

/** One layer's estimate from the samples, on the device until it is read and stored. */
interface LayerEstimate {
  count: number;
  source: { mean: Tensor; var: Tensor };
  target: { mean: Tensor; var: Tensor };
  adapted: { mean: Tensor; var: Tensor };
}

/** w·target + (1 − w)·source, without arithmetic at the ends so that w = 0 and w = 1 are exact. */
function blend(target: Tensor, source: Tensor, w: number): Tensor {
  if (w === 1) return target;
  if (w === 0) return source;
  return add(mul(target, w), mul(source, 1 - w));
}

/**
 * Few-shot re-estimation of batch-norm statistics for a shifted input distribution (Schneider
 * et al. 2020, "Improving robustness against common corruptions by covariate shift
 * adaptation"): n unlabeled samples from the new (target) distribution, one batch along the
 * first axis of `samples`, re-estimate every batch-norm layer's running statistics
 * (BatchNorm1d/2d, BatchRenorm2d; ConditionalBatchNorm2d through its child `bn`), shrunk toward
 * the stored (source) ones by a prior worth k = `priorStrength` samples:
 *
 *   w = n / (n + k),   mean = w·μ_t + (1 − w)·μ_s,   var = w·σ²_t + (1 − w)·σ²_s
 *
 * μ_t and σ²_t are the per-channel mean and unbiased variance of the layer's input over the n
 * samples (and its spatial positions), μ_s and σ²_s the statistics evaluation used before
 * (bias-corrected where the layer corrects them). The variances are blended as they are, as in
 * the paper; the spread between μ_t and μ_s is not added.
 *
 * One forward pass in evaluation mode (dropout off) without recording gradients, in which each
 * batch-norm layer normalizes with its adapted statistics as soon as it has them: every layer
 * then receives exactly what it will receive in evaluation after adaptation. The adapted
 * statistics are written into the running buffers; no parameter changes, `momentum` and
 * `numBatchesTracked` are left alone, and every module's train/eval mode is restored. A layer
 * that receives one value per channel, a layer the forward pass does not reach or reaches
 * twice, or any error in the model throws before a buffer is written. Returns per layer what
 * moved.
 */
export async function adaptBatchNorm<B extends StatisticsBatch>(model: AnyModule, samples: B, options: AdaptBatchNormOptions<B>): Promise<RunningStatsUpdate[]> {
  const owner = 'adaptBatchNorm';
  const k = (options as Partial<AdaptBatchNormOptions<B>> | undefined)?.priorStrength;
  if (typeof k !== 'number' || Number.isNaN(k) || k < 0) throw new Error(`${owner}: priorStrength must be a number >= 0 (the samples the stored statistics are worth; Infinity keeps them), got ${String(k)}`);
  const layers = statisticsLayers(owner, model);
  const x = inputOf(owner, samples);
  const n = x.rank > 0 ? x.shape[0] : 0;
  if (n < 1) throw new Error(`${owner}: samples must hold at least one sample along the first axis, got shape [${x.shape.join(', ')}]`);
  const w = k === Infinity ? 0 : n / (n + k);
  const forward = forwardOf(owner, model, options.forward);

  const estimates: (LayerEstimate | null)[] = layers.map(() => null);
  const kept: Tensor[] = [];
  const keepAll = <T extends Record<string, Tensor>>(o: T): T => {
    for (const t of Object.values(o)) kept.push(keep(t));
    return o;
  };
  const unhook = hookLayers(layers, (layer, index, input) => {
    if (estimates[index]) throw new Error(`${owner}: the forward pass called this layer twice; adaptation estimates each layer's statistics from one input`);
    checkValuesPerChannel(owner, input, 'estimating a variance');
    const source = keepAll(currentStatistics(layer));
    const target = keepAll(channelMoments(input, 1));
    const adapted = keepAll({ mean: blend(target.mean, source.mean, w), var: blend(target.var, source.var, w) });
    estimates[index] = { count: valuesPerChannel(input), source, target, adapted };
    return batchNorm(input, { runningMean: adapted.mean, runningVar: adapted.var, weight: layer.weight, bias: layer.bias, eps: layer.eps, training: false });
  });
  const restoreModes = saveModes(model);
  model.eval();
  try {
    noGrad(() => tidy(() => void forward(samples)));
    const unreached = layers.filter((_, i) => !estimates[i]);
    if (unreached.length > 0) throw new Error(`${owner}: the forward pass did not reach ${unreached.map((l) => `${l.label} (${l.module.typeName})`).join(', ')}; their statistics cannot be estimated`);
    const found = estimates as LayerEstimate[];
    const values = await readTogether(found.flatMap((e) => [e.source.mean, e.source.var, e.target.mean, e.target.var, e.adapted.mean, e.adapted.var]));
    const at = (layer: number, i: number): Float32Array => Float32Array.from(values[6 * layer + i]);
    const updates = layers.map((layer, i) =>
      updateOf(layer, n, found[i].count, w, { mean: at(i, 0), var: at(i, 1) }, { mean: at(i, 2), var: at(i, 3) }, { mean: at(i, 4), var: at(i, 5) }),
    );
    layers.forEach((layer, i) => storeStatistics(layer, found[i].adapted.mean, found[i].adapted.var));
    return updates;
  } finally {
    unhook();
    restoreModes();
    kept.forEach((t) => t.dispose());
  }
}
