import { batchNorm, emptyStatistics, keep, mergeChannelStatistics, noGrad, tidy, type Backend, type MergedStatistics, type Tensor } from '@welford/core';
import type { AnyModule } from '../module/module.ts';
import { readTogether } from '../training/device_sum.ts';
import { nextTask } from '../training/next_task.ts';
import {
  channelMomentsJoined,
  checkValuesPerChannel,
  currentStatistics,
  forwardOf,
  hookLayers,
  inputOf,
  readStatistics,
  saveModes,
  statisticsLayers,
  storeStatistics,
  updateOf,
  valuesPerChannel,
  type ChannelStats,
  type RunningStatsUpdate,
  type StatisticsBatch,
} from './adapt_statistics.ts';

/** Options of `preciseBatchNorm`. */
export interface PreciseBatchNormOptions<B extends StatisticsBatch> {
  /** Runs the model on a batch (default: `model.call(batch)` for a tensor, `model.call(batch.x)` for a batch object); e.g. to pass labels too. */
  forward?: (batch: B) => unknown;
  /** Dispose each batch's tensors (x, y and mask, or the tensor itself) once used (default true, as `evaluate`). */
  disposeBatches?: boolean;
}

/** Each layer call of one batch: which layer, and how many values per channel it saw. */
interface BatchReading {
  calls: { layer: number; count: number }[];
  values: Promise<Float32Array[]>;
}

function disposeBatch(batch: StatisticsBatch): void {
  if ((batch as { isTensor?: unknown }).isTensor === true) {
    (batch as Tensor).dispose();
    return;
  }
  for (const key of ['x', 'y', 'mask'] as const) (batch as Partial<Record<typeof key, Tensor>>)[key]?.dispose();
}

/**
 * Precise batch norm (Wu & Johnson 2021, fvcore's update_bn_stats): replaces the running mean
 * and variance of every batch-norm layer with running statistics (BatchNorm1d/2d, BatchRenorm2d;
 * ConditionalBatchNorm2d through its child `bn`) by the exact population statistics of its
 * input over all of `batches`, instead of an exponential moving average.
 *
 * The model runs in evaluation mode (dropout off) without recording gradients, except that each
 * batch-norm layer normalizes every batch with that batch's own mean and biased variance, as in
 * training (batch renorm with r = 1 and d = 0), so each layer receives what training fed it.
 * Per layer and batch the device computes the per-channel mean and biased variance of the
 * layer's input; the host merges the batches' (count, mean, M2) in float64 with Chan's formula.
 * The layer's running mean becomes the mean over all N values per channel it received, and its
 * running variance the unbiased M2 / (N − 1), as PyTorch stores it. This differs from
 * `torch.optim.swa_utils.update_bn`, which averages the batches' unbiased variances and so
 * leaves out how much the batch means vary.
 *
 * No parameter changes and nothing is recorded for autograd; `momentum` and `numBatchesTracked`
 * are left as they are; every module's train/eval mode is restored. A bias-corrected layer's
 * buffers are scaled by its correction so that evaluation uses the population statistics. The
 * buffers are written only once every batch has passed: a batch that fails (one value per
 * channel, a layer no batch reached, an error in the model) leaves every buffer as it was.
 * Returns per layer what changed.
 */
export async function preciseBatchNorm<B extends StatisticsBatch>(model: AnyModule, batches: Iterable<B>, options: PreciseBatchNormOptions<B> = {}): Promise<RunningStatsUpdate[]> {
  const owner = 'preciseBatchNorm';
  const layers = statisticsLayers(owner, model);
  if (batches === null || typeof (batches as Partial<Iterable<B>>)?.[Symbol.iterator] !== 'function') throw new Error(`${owner}: batches must be iterable (an array, a DataLoader), got ${String(batches)}`);
  const forward = forwardOf(owner, model, options.forward);
  const disposeBatches = options.disposeBatches ?? true;
  const readings: BatchReading[] = [];
  let calls: BatchReading['calls'] = [];
  let pending: Tensor[] = [];
  const unhook = hookLayers(layers, (layer, index, x) => {
    checkValuesPerChannel(owner, x, 'normalizing with batch statistics');
    pending.push(keep(channelMomentsJoined(x)));
    calls.push({ layer: index, count: valuesPerChannel(x) });
    return batchNorm(x, { weight: layer.weight, bias: layer.bias, eps: layer.eps, training: true });
  });
  const restoreModes = saveModes(model);
  const backend: Backend = layers[0].runningMean.backend;
  let samples = 0;
  model.eval();
  try {
    for (const batch of batches) {
      try {
        const x = inputOf(owner, batch);
        noGrad(() => tidy(() => void forward(batch)));
        samples += x.rank > 0 ? x.shape[0] : 1;
        const values = readTogether(pending);
        // Observed here so that a failure later does not leave it unhandled; awaited below.
        values.catch(() => undefined);
        readings.push({ calls, values });
        backend.flush();
      } finally {
        pending.forEach((t) => t.dispose());
        pending = [];
        calls = [];
        if (disposeBatches) disposeBatch(batch);
      }
      await nextTask();
    }
    if (readings.length === 0) throw new Error(`${owner}: batches gave no batch`);
    const moments: MergedStatistics[] = layers.map((l) => emptyStatistics(l.channels));
    for (const reading of readings) {
      const values = await reading.values;
      reading.calls.forEach((call, i) => mergeChannelStatistics(moments[call.layer], call.count, values[i]));
    }
    const unreached = layers.filter((_, i) => moments[i].count === 0);
    if (unreached.length > 0) throw new Error(`${owner}: no batch reached ${unreached.map((l) => `${l.label} (${l.module.typeName})`).join(', ')}; their statistics cannot be estimated`);
    const befores = await Promise.all(layers.map((l) => readStatistics(currentStatistics(l))));
    const updates = layers.map((layer, i) => {
      const { count, mean, m2 } = moments[i];
      const population: ChannelStats = { mean: Float32Array.from(mean), var: Float32Array.from(m2, (v) => v / (count - 1)) };
      return updateOf(layer, samples, count, 1, befores[i], population, population);
    });
    layers.forEach((layer, i) => storeStatistics(layer, updates[i].after.mean, updates[i].after.var));
    return updates;
  } finally {
    pending.forEach((t) => t.dispose());
    unhook();
    restoreModes();
  }
}
