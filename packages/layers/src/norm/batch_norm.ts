import { batchNorm, mul, noGrad, ones, syncBatchNorm, zeros, type BatchNormOptions, type ProcessGroup, type Tensor } from '@welford/core';
import { checkChannels, checkPositiveInt } from '../checks.ts';
import { Module } from '../module/module.ts';
import type { HostTensor } from '../module/load_state.ts';
import { checkBoolean, checkEps, checkMomentum, formatFloat, rejectFusedRelu, fillIdentityAffine, fillRunningStats } from './options.ts';

export interface BatchNormLayerOptions {
  /** Added to the variance inside the square root (default 1e-5). */
  eps?: number;
  /** Weight of the new batch in the running averages (default 0.1); null: a cumulative average over all batches. */
  momentum?: number | null;
  /** Learn a per-channel scale `weight` (γ, initially 1) and shift `bias` (β, initially 0) (default true). */
  affine?: boolean;
  /** Keep running statistics and use them in evaluation (default true); false: batch statistics always. */
  trackRunningStats?: boolean;
  /**
   * welford's opt-in, not in PyTorch (default false): the running averages start at zero and
   * evaluation divides them by 1 − (1 − momentum)^t, t = numBatchesTracked, which removes the
   * bias toward the initial value that an exponential moving average has early in training.
   * Needs a numeric momentum (momentum null is already an unbiased cumulative average).
   */
  biasCorrection?: boolean;
}

/** Running statistics as evaluation uses them. The caller owns (and disposes) both tensors. */
export interface RunningStats {
  mean: Tensor;
  var: Tensor;
}

/**
 * What BatchNorm1d and BatchNorm2d share (PyTorch's `_BatchNorm`): parameters `weight` and
 * `bias` [C] when affine; buffers `runningMean` [C], `runningVar` [C] and the counter
 * `numBatchesTracked` when tracking running statistics (declared null otherwise).
 *
 * Training normalizes with the batch's mean and biased variance and, when tracking, updates
 * the running statistics in place: running = (1 − momentum)·running + momentum·batch with the
 * unbiased batch variance (momentum null: factor 1/numBatchesTracked, a cumulative average),
 * and counts the batch. Evaluation normalizes with the running statistics, or with the batch's
 * own when `trackRunningStats` is false. A call that throws changes no state.
 *
 * With a `processGroup` (data-parallel replicas, see SyncBatchNorm), training uses the
 * statistics of the whole batch across the replicas instead of this replica's shard.
 */
export abstract class BatchNormBase extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  readonly biasCorrection: boolean;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  /**
   * The replicas whose batches this layer normalizes together in training (core's
   * `syncBatchNorm`); null (the default): this device's batch alone. DataParallel sets it.
   */
  processGroup: ProcessGroup | null = null;


  /** A state dict saved before PyTorch had `num_batches_tracked` loads it as 0, as PyTorch's norms do. */
  override defaultForMissing(localName: string): HostTensor | null {
    return localName === 'numBatchesTracked' && this.trackRunningStats ? { shape: [], data: new Float32Array([0]) } : null;
  }
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super();
    const { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true, biasCorrection = false } = options;
    const name = this.typeName;
    rejectFusedRelu(name, options);
    checkPositiveInt(name, 'numFeatures', numFeatures);
    checkEps(name, eps);
    checkMomentum(name, momentum, true);
    checkBoolean(name, 'affine', affine);
    checkBoolean(name, 'trackRunningStats', trackRunningStats);
    checkBoolean(name, 'biasCorrection', biasCorrection);
    if (biasCorrection && !trackRunningStats) throw new Error(`${name}: biasCorrection corrects running statistics, so it needs trackRunningStats: true`);
    if (biasCorrection && momentum === null) {
      throw new Error(`${name}: biasCorrection needs a numeric momentum; momentum null is a cumulative average, which is already unbiased`);
    }
    if (biasCorrection && momentum === 0) throw new Error(`${name}: biasCorrection needs momentum > 0 (with momentum 0 the running averages never move)`);
    this.numFeatures = numFeatures;
    this.eps = eps;
    this.momentum = momentum;
    this.affine = affine;
    this.trackRunningStats = trackRunningStats;
    this.biasCorrection = biasCorrection;
    this.weight = this.registerParameter('weight', affine ? ones([numFeatures]) : null);
    this.bias = this.registerParameter('bias', affine ? zeros([numFeatures]) : null);
    if (trackRunningStats) {
      this.runningMean = this.registerBuffer('runningMean', zeros([numFeatures]));
      // Bias correction divides an average that started at zero; PyTorch starts the variance at 1.
      this.runningVar = this.registerBuffer('runningVar', biasCorrection ? zeros([numFeatures]) : ones([numFeatures]));
      this.registerCounter('numBatchesTracked', 0);
    } else {
      this.runningMean = this.registerBuffer('runningMean', null);
      this.runningVar = this.registerBuffer('runningVar', null);
      this.registerBuffer('numBatchesTracked', null);
    }
  }

  /** Throws unless `x` has this layer's rank and channel count. */
  protected abstract checkInput(x: Tensor): void;

  /** Training batches counted so far (null without running statistics). */
  get numBatchesTracked(): number | null {
    return this.trackRunningStats ? this.counter('numBatchesTracked') : null;
  }

  /** Sets the count (PyTorch lets one assign `num_batches_tracked`); only with running statistics. */
  set numBatchesTracked(value: number | null) {
    if (!this.trackRunningStats) throw new Error(`${this.typeName}: no numBatchesTracked (trackRunningStats is false)`);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new Error(`${this.typeName}: numBatchesTracked must be an integer >= 0, got ${String(value)}`);
    this.setCounter('numBatchesTracked', value);
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    const { weight, bias, eps, momentum } = this;
    const affine = { weight: weight ?? undefined, bias: bias ?? undefined, eps };
    if (!this.training && this.runningMean && this.runningVar) {
      if (!this.biasCorrection) return batchNorm(x, { ...affine, runningMean: this.runningMean, runningVar: this.runningVar, training: false });
      const stats = this.correctedRunningStats();
      try {
        return batchNorm(x, { ...affine, runningMean: stats.mean, runningVar: stats.var, training: false });
      } finally {
        stats.mean.dispose();
        stats.var.dispose();
      }
    }
    if (!this.training || !this.runningMean || !this.runningVar) return this.batchStatistics(x, { ...affine, training: true });
    const counted = this.counter('numBatchesTracked') + 1;
    const y = this.batchStatistics(x, { ...affine, runningMean: this.runningMean, runningVar: this.runningVar, training: true, momentum, numBatchesTracked: counted });
    this.setCounter('numBatchesTracked', counted);
    return y;
  }

  /** Normalizes with the batch's statistics: this device's, or the replicas' together. */
  private batchStatistics(x: Tensor, options: BatchNormOptions): Tensor {
    return this.processGroup ? syncBatchNorm(x, { ...options, group: this.processGroup }) : batchNorm(x, options);
  }

  /**
   * The running statistics evaluation uses, as new tensors the caller disposes. Without
   * `biasCorrection` they are copies of the buffers. With it they are the buffers divided by
   * 1 − (1 − momentum)^t, t = numBatchesTracked: with zero-initialised averages
   * E[running_t] = m·(1 − (1 − momentum)^t) for a constant batch statistic m, so the quotient
   * is an unbiased estimate. Before the first training batch (t = 0) there is no estimate and
   * the result is PyTorch's initial statistics, mean 0 and variance 1.
   */
  correctedRunningStats(): RunningStats {
    const { runningMean, runningVar } = this;
    if (!runningMean || !runningVar) throw new Error(`${this.typeName}: no running statistics (trackRunningStats is false)`);
    return noGrad(() => {
      if (!this.biasCorrection) return { mean: mul(runningMean, 1), var: mul(runningVar, 1) };
      const t = this.counter('numBatchesTracked');
      if (t === 0) return { mean: zeros([this.numFeatures]), var: ones([this.numFeatures]) };
      // 1 − (1 − m)^t without cancellation when m·t is small.
      const correction = -Math.expm1(t * Math.log1p(-this.momentum!));
      return { mean: mul(runningMean, 1 / correction), var: mul(runningVar, 1 / correction) };
    });
  }

  /** Running mean to 0, running variance to 1 (0 with bias correction), numBatchesTracked to 0, as PyTorch. */
  resetRunningStats(): void {
    const { runningMean, runningVar } = this;
    if (!runningMean || !runningVar) return;
    fillRunningStats(runningMean, runningVar, this.biasCorrection ? 0 : 1);
    this.setCounter('numBatchesTracked', 0);
  }

  /** Resets the running statistics, and weight to 1 and bias to 0 (in place). */
  resetParameters(): void {
    this.resetRunningStats();
    fillIdentityAffine(this.weight, this.bias);
  }

  override extraRepr(): string {
    const momentum = this.momentum === null ? 'null' : formatFloat(this.momentum);
    const extra = this.biasCorrection ? ', biasCorrection=true' : '';
    return `${this.numFeatures}, eps=${formatFloat(this.eps)}, momentum=${momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}${extra}`;
  }
}

/** Batch normalization of (N, C) or (N, C, L) inputs per channel (`torch.nn.BatchNorm1d`); see BatchNormBase. */
export class BatchNorm1d extends BatchNormBase {
  static override readonly typeName = 'BatchNorm1d';
  protected checkInput(x: Tensor): void {
    checkChannels('BatchNorm1d', x, [2, 3], this.numFeatures);
  }
}

/** Batch normalization of (N, C, H, W) inputs per channel (`torch.nn.BatchNorm2d`); see BatchNormBase. */
export class BatchNorm2d extends BatchNormBase {
  static override readonly typeName = 'BatchNorm2d';
  protected checkInput(x: Tensor): void {
    checkChannels('BatchNorm2d', x, [4], this.numFeatures);
  }
}

/**
 * Batch normalization of (N, C, ...) inputs whose statistics are those of the whole batch across
 * data-parallel replicas (`torch.nn.SyncBatchNorm`): the same layer as BatchNorm1d/2d, for inputs
 * (N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W), with the replicas given by `processGroup` (set by DataParallel, or by
 * `convertSyncBatchNorm`). Without a process group it is plain batch norm.
 */
export class SyncBatchNorm extends BatchNormBase {
  static override readonly typeName = 'SyncBatchNorm';
  protected checkInput(x: Tensor): void {
    checkChannels('SyncBatchNorm', x, [2, 3, 4, 5], this.numFeatures);
  }
}
