import { noGrad } from '../tensor/grad_mode.ts';
import { updateRunningProgram, type Grouping } from '../kernels/norm.ts';
import { updateRunningReference } from '../reference/norm.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { shapeToString, sizeOf, type Shape } from '../util/shape.ts';
import { commonBackend } from './dispatch.ts';
import { runInPlace } from './in_place.ts';
import { concat } from './layout.ts';
import { checkAffine, checkGroupingInput, checkNormOptions, normalize } from './norm.ts';

// What batchNorm, batchRenorm and syncBatchNorm share: checks, the running-statistics update, evaluation.

export const PER_CHANNEL: Grouping = { kind: 'batch' };

export interface BatchNormOptions {
  /** Running mean [C]: used in evaluation, updated in place when training. */
  runningMean?: Tensor;
  /** Running (unbiased) variance [C]: used in evaluation, updated in place when training. */
  runningVar?: Tensor;
  /** γ [C] (default 1). */
  weight?: Tensor;
  /** β [C] (default 0). */
  bias?: Tensor;
  /** Batch statistics (and running-statistics updates) when true; running statistics when false (default). */
  training?: boolean;
  /** Weight of the new batch in the running averages (default 0.1); null: cumulative average, 1 / numBatchesTracked. */
  momentum?: number | null;
  /** Batches seen, this one included: needed with momentum null. */
  numBatchesTracked?: number;
  /** Added to the variance inside the square root (default 1e-5). */
  eps?: number;
  /** Applies ReLU to the result in the same pass (default false). */
  relu?: boolean;
}

export interface Checked {
  readonly training: boolean;
  /** The running-average factor when the running statistics are updated; null otherwise. */
  readonly factor: number | null;
}

/** Values averaged per channel: N times the spatial size. */
export function perChannel(x: Shape): number {
  return x[0] * sizeOf(x.slice(2));
}

/**
 * Checks everything before anything runs, so a failing call leaves the running statistics alone.
 * `localBatch` false skips the "more than 1 value per channel" check (synchronised batch norm
 * checks the count across replicas instead).
 */
export function checkBatchNorm(op: string, x: Tensor, o: BatchNormOptions, localBatch = true): Checked {
  const { runningMean, runningVar, weight, bias, training = false, momentum = 0.1, numBatchesTracked, eps = 1e-5, relu = false } = o;
  checkGroupingInput(op, x.shape, PER_CHANNEL);
  checkNormOptions(op, eps, relu);
  if (typeof training !== 'boolean') throw new Error(`${op}: training must be a boolean, got ${String(training)}`);
  checkAffine(op, 'weight', weight?.shape, x.shape, PER_CHANNEL);
  checkAffine(op, 'bias', bias?.shape, x.shape, PER_CHANNEL);
  checkAffine(op, 'runningMean', runningMean?.shape, x.shape, PER_CHANNEL);
  checkAffine(op, 'runningVar', runningVar?.shape, x.shape, PER_CHANNEL);
  if ((runningMean === undefined) !== (runningVar === undefined)) throw new Error(`${op}: runningMean and runningVar must be given together`);
  const tensors = [x, weight, bias, runningMean, runningVar].filter((t): t is Tensor => t !== undefined);
  commonBackend(op, tensors);
  if (runningMean && runningMean.storageFor(op) === runningVar!.storageFor(op)) throw new Error(`${op}: runningMean and runningVar must not share storage`);
  if (!training) {
    if (!runningMean) throw new Error(`${op}: runningMean and runningVar are required when training is false (evaluation normalizes with them)`);
    return { training, factor: null };
  }
  if (localBatch && perChannel(x.shape) === 1) throw new Error(`${op}: Expected more than 1 value per channel when training, got input size ${shapeToString(x.shape)}`);
  if (!runningMean) return { training, factor: null };
  if (momentum === null) {
    if (typeof numBatchesTracked !== 'number' || !Number.isInteger(numBatchesTracked) || numBatchesTracked < 1) {
      throw new Error(`${op}: momentum null (a cumulative average) needs numBatchesTracked, the count of batches including this one (a positive integer), got ${String(numBatchesTracked)}`);
    }
    return { training, factor: 1 / numBatchesTracked };
  }
  if (typeof momentum !== 'number' || !Number.isFinite(momentum)) throw new Error(`${op}: momentum must be a finite number or null, got ${String(momentum)}`);
  return { training, factor: momentum };
}

/**
 * running ← (1 − factor)·running + factor·batch, in place; rows 0 and 1 of stats are the mean
 * and a variance that `unbias` turns into the unbiased one (count/(count − 1) for a biased variance
 * over count values; 1 for one already unbiased).
 */
export function updateRunning(op: string, stats: Tensor, runningMean: Tensor, runningVar: Tensor, factor: number, unbias: number): void {
  runInPlace(
    op,
    stats.backendFor(op),
    { stats, running_mean: runningMean, running_var: runningVar },
    updateRunningProgram(runningMean.size, factor, unbias),
    (d) => updateRunningReference(d.running_mean, d.running_var, d.stats, factor, unbias),
  );
}

/** The factor that unbiases a variance over `count` values. */
export function unbiasFactor(count: number): number {
  return count / (count - 1);
}

/** Evaluation: normalize with the running statistics (the Jacobian is diagonal). */
export function evaluate(op: string, x: Tensor, runningMean: Tensor, runningVar: Tensor, weight: Tensor | undefined, bias: Tensor | undefined, eps: number, relu: boolean): Tensor {
  const stats = noGrad(() => {
    const both = concat([runningMean, runningVar]);
    const view = both.view([2, runningMean.size]);
    both.dispose();
    return view;
  });
  return normalize(op, x, stats, weight, bias, { grouping: PER_CHANNEL, eps, relu, batchStats: false, renorm: false, hasWeight: !!weight, hasBias: !!bias });
}

