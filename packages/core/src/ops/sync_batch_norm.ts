import { checkRank, type ProcessGroup } from '../distributed/collective.ts';
import { exchange, recordedCalls } from '../distributed/exchange.ts';
import { syncedStatistics, withCount } from '../distributed/replica_statistics.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { shapeToString } from '../util/shape.ts';
import type { BatchNormOptions } from './batch_norm.ts';
import { checkBatchNorm, evaluate, perChannel, PER_CHANNEL, updateRunning } from './batch_norm_parts.ts';
import { normalize, normStatistics, registerNorm, type NormAttrs } from './norm.ts';

const OP = 'syncBatchNorm';

interface SyncNormAttrs extends NormAttrs {
  readonly group: ProcessGroup;
  /** Values per channel on this replica. */
  readonly count: number;
}

// Backward: dx needs mean(dy) and mean(dy·x̂) over the whole batch, so the per-channel sums of
// every replica are added (with their counts) and scaled so that the kernel's division by this
// replica's count gives the means over all of them. dγ and dβ stay this replica's own; the
// data-parallel gradient all-reduce adds them up as it does every other gradient.
registerNorm(OP, (sums, attrs) => {
  const { group, count } = attrs as SyncNormAttrs;
  const calls = recordedCalls(group);
  return exchange(`${OP} (backward)`, sums, [sums.shape], async (values) => {
    const total = await calls.allReduceSum(withCount(count, values));
    const scale = count / total[0];
    return [Float32Array.from(total.subarray(1), (v) => v * scale)];
  })[0];
});

export interface SyncBatchNormOptions extends BatchNormOptions {
  /** This replica's rank and the collective joining it with the others. */
  group: ProcessGroup;
}

/**
 * Synchronised batch normalization (torch.nn.SyncBatchNorm's computation): in training every
 * replica of `group` calls it with its shard of the batch, and each normalizes with the mean
 * and variance of the whole batch, gathered as (count, mean, variance) per channel from every
 * replica and merged in float64 (Chan's formula); the running statistics get the whole batch's
 * mean and unbiased variance, the same on every replica. The backward adds the replicas'
 * per-channel sums of dy and dy·x̂, so that R replicas with B/R samples each compute what one
 * device computes with B samples (give each replica the loss summed over its samples divided by
 * the global batch size, and sum the parameter gradients across replicas). Evaluation uses the
 * running statistics and communicates nothing.
 *
 * Nothing waits while recording: the device holds the work after each exchange until the other
 * replicas' statistics arrive (WebGPU backend). Every replica must make the same calls in the
 * same order.
 */
export function syncBatchNorm(input: Tensor, options: SyncBatchNormOptions): Tensor {
  const { group, ...bn } = options;
  if (!group || typeof group.collective?.allGather !== 'function') throw new Error(`${OP}: group must be a ProcessGroup ({ collective, rank }), got ${String(group)}`);
  checkRank(OP, group.rank, group.collective.size);
  const { runningMean, runningVar, weight, bias, eps = 1e-5, relu = false } = bn;
  const { training, factor } = checkBatchNorm(OP, input, bn, false);
  if (!training) return evaluate(OP, input, runningMean!, runningVar!, weight, bias, eps, relu);
  if (input.size === 0) throw new Error(`${OP}: replica ${group.rank} got an empty input ${shapeToString(input.shape)}; every replica needs at least one sample`);
  const channels = input.shape[1];
  const count = perChannel(input.shape);
  const local = normStatistics(input, PER_CHANNEL);
  const calls = recordedCalls(group);
  const [stats, running] = exchange(OP, local, [[2, channels], [2, channels]], async (values) =>
    syncedStatistics(await calls.allGather(withCount(count, values)), channels),
  );
  local.dispose();
  if (factor !== null) updateRunning(OP, running, runningMean!, runningVar!, factor, 1);
  running.dispose();
  const attrs: SyncNormAttrs = { grouping: PER_CHANNEL, eps, relu, batchStats: true, renorm: false, hasWeight: !!weight, hasBias: !!bias, group, count };
  return normalize(OP, input, stats, weight, bias, attrs);
}
