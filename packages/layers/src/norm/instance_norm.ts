import { add, assign, batchNorm, instanceNorm, mean, mul, noGrad, ones, tidy, variance, zeros, type Tensor } from '@welford/core';
import { checkChannels, checkPositiveInt } from '../checks.ts';
import { Module } from '../module/module.ts';
import type { HostTensor } from '../module/load_state.ts';
import { checkBoolean, checkEps, checkMomentum, formatFloat, rejectFusedRelu, fillIdentityAffine, fillRunningStats } from './options.ts';

export interface InstanceNormLayerOptions {
  /** Added to the variance inside the square root (default 1e-5). */
  eps?: number;
  /** Weight of the new batch in the running averages (default 0.1). */
  momentum?: number;
  /** Learn a per-channel `weight` (initially 1) and `bias` (initially 0) (default false, as PyTorch). */
  affine?: boolean;
  /** Keep running statistics and normalize with them in evaluation (default false, as PyTorch). */
  trackRunningStats?: boolean;
}

/**
 * What InstanceNorm1d and InstanceNorm2d share (PyTorch's `_InstanceNorm`): each (sample,
 * channel) is normalized over its positions with its own mean and biased variance, then scaled
 * and shifted per channel when affine.
 *
 * With `trackRunningStats`, training also updates `runningMean` and `runningVar` [C] in place
 * with the batch mean of the per-instance means and unbiased variances, and evaluation
 * normalizes every instance with them, as PyTorch does. `numBatchesTracked` is registered so
 * that checkpoints match PyTorch's, but, as there, instance norm never advances it.
 */
export abstract class InstanceNormBase extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;


  /** A state dict saved before PyTorch had `num_batches_tracked` loads it as 0, as PyTorch's norms do. */
  override defaultForMissing(localName: string): HostTensor | null {
    return localName === 'numBatchesTracked' && this.trackRunningStats ? { shape: [], data: new Float32Array([0]) } : null;
  }
  constructor(numFeatures: number, options: InstanceNormLayerOptions = {}) {
    super();
    const { eps = 1e-5, momentum = 0.1, affine = false, trackRunningStats = false } = options;
    const name = this.typeName;
    checkPositiveInt(name, 'numFeatures', numFeatures);
    checkEps(name, eps);
    checkMomentum(name, momentum, false);
    checkBoolean(name, 'affine', affine);
    checkBoolean(name, 'trackRunningStats', trackRunningStats);
    rejectFusedRelu(name, options);
    this.numFeatures = numFeatures;
    this.eps = eps;
    this.momentum = momentum;
    this.affine = affine;
    this.trackRunningStats = trackRunningStats;
    this.weight = this.registerParameter('weight', affine ? ones([numFeatures]) : null);
    this.bias = this.registerParameter('bias', affine ? zeros([numFeatures]) : null);
    this.runningMean = this.registerBuffer('runningMean', trackRunningStats ? zeros([numFeatures]) : null);
    this.runningVar = this.registerBuffer('runningVar', trackRunningStats ? ones([numFeatures]) : null);
    if (trackRunningStats) this.registerCounter('numBatchesTracked', 0);
    else this.registerBuffer('numBatchesTracked', null);
  }

  /** The accepted input rank (3 for 1d, 4 for 2d). */
  protected abstract readonly inputRank: number;

  forward(x: Tensor): Tensor {
    checkChannels(this.typeName, x, [this.inputRank], this.numFeatures);
    const affine = { weight: this.weight ?? undefined, bias: this.bias ?? undefined, eps: this.eps };
    const { runningMean, runningVar } = this;
    if (!runningMean || !runningVar) return instanceNorm(x, affine);
    // Evaluation with running statistics is batch norm in evaluation: every instance uses the same statistics.
    if (!this.training) return batchNorm(x, { ...affine, runningMean, runningVar, training: false });
    const y = instanceNorm(x, affine);
    this.updateRunningStats(x, runningMean, runningVar);
    return y;
  }

  /** running = (1 − momentum)·running + momentum·(batch mean of per-instance statistics), as ATen's instance_norm. */
  private updateRunningStats(x: Tensor, runningMean: Tensor, runningVar: Tensor): void {
    const m = this.momentum;
    const spatial = x.shape.map((_, i) => i).slice(2);
    tidy(() =>
      noGrad(() => {
        const batchMean = mean(mean(x, spatial), 0);
        const batchVar = mean(variance(x, spatial, { correction: 1 }), 0);
        assign(runningMean, add(mul(runningMean, 1 - m), mul(batchMean, m)));
        assign(runningVar, add(mul(runningVar, 1 - m), mul(batchVar, m)));
      }),
    );
  }

  /** Running mean to 0, running variance to 1 and numBatchesTracked to 0 (in place), as PyTorch. */
  resetRunningStats(): void {
    if (!this.runningMean || !this.runningVar) return;
    fillRunningStats(this.runningMean, this.runningVar);
    this.setCounter('numBatchesTracked', 0);
  }

  /** Resets the running statistics, and weight to 1 and bias to 0 (in place). */
  resetParameters(): void {
    this.resetRunningStats();
    fillIdentityAffine(this.weight, this.bias);
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${formatFloat(this.eps)}, momentum=${formatFloat(this.momentum)}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/** Instance normalization of (N, C, L) inputs (`torch.nn.InstanceNorm1d`); see InstanceNormBase. */
export class InstanceNorm1d extends InstanceNormBase {
  static override readonly typeName = 'InstanceNorm1d';
  protected readonly inputRank = 3;
}

/** Instance normalization of (N, C, H, W) inputs (`torch.nn.InstanceNorm2d`); see InstanceNormBase. */
export class InstanceNorm2d extends InstanceNormBase {
  static override readonly typeName = 'InstanceNorm2d';
  protected readonly inputRank = 4;
}
