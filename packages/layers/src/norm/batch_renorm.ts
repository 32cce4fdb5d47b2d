import { batchRenorm, keep, ones, zeros, type Tensor } from '@welford/core';
import { checkChannels, checkNumber, checkPositiveInt } from '../checks.ts';
import { Module } from '../module/module.ts';
import { checkBoolean, checkEps, checkMomentum, formatFloat, rejectFusedRelu, fillIdentityAffine, fillRunningStats } from './options.ts';

export interface BatchRenormLayerOptions {
  /** Added to the variance inside the square root (default 1e-5). */
  eps?: number;
  /** Weight of the new batch in the running averages (default 0.1). */
  momentum?: number;
  /** Final bound of r: r is clipped to [1/rmax, rmax] (default 3, >= 1). */
  rmax?: number;
  /** Final bound of d: d is clipped to [−dmax, dmax] (default 5, >= 0). */
  dmax?: number;
  /** Training batches over which the bounds grow linearly from (1, 0) to (rmax, dmax) (default 0: final bounds at once). */
  warmupSteps?: number;
  /** Learn a per-channel `weight` (initially 1) and `bias` (initially 0) (default true). */
  affine?: boolean;
}

/** The clipping bounds of r and d for a training step. */
export interface RenormLimits {
  rmax: number;
  dmax: number;
}

/**
 * Batch renormalization of (N, C, H, W) inputs (Ioffe 2017; not in PyTorch). Training
 * normalizes with the batch statistics corrected toward the running ones:
 * y = γ·((x − μ_B)/σ_B·r + d) + β with r = clip(σ_B/σ, 1/rmax, rmax) and
 * d = clip((μ_B − μ)/σ, −dmax, dmax), constants for the gradient, so that training computes
 * what evaluation will; then it updates the running statistics as batch norm does and counts
 * the batch in `numBatchesTracked`. Evaluation is batch norm with the running statistics.
 *
 * The bounds warm up: at training step t (batches seen before this one) they are
 * rmax_t = 1 + (rmax − 1)·min(t / warmupSteps, 1) and dmax_t = dmax·min(t / warmupSteps, 1),
 * so training starts as plain batch norm (r = 1, d = 0); see `currentLimits()`.
 */
export class BatchRenorm2d extends Module {
  static override readonly typeName = 'BatchRenorm2d';
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number;
  readonly rmax: number;
  readonly dmax: number;
  readonly warmupSteps: number;
  readonly affine: boolean;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  // The core op always scales and shifts: without affine it gets these constants (not state).
  private readonly unitScale: Tensor | null;
  private readonly zeroShift: Tensor | null;

  constructor(numFeatures: number, options: BatchRenormLayerOptions = {}) {
    super();
    const { eps = 1e-5, momentum = 0.1, rmax = 3, dmax = 5, warmupSteps = 0, affine = true } = options;
    const name = 'BatchRenorm2d';
    checkPositiveInt(name, 'numFeatures', numFeatures);
    checkEps(name, eps);
    checkMomentum(name, momentum, false);
    checkNumber(name, 'rmax', rmax, 1);
    checkNumber(name, 'dmax', dmax, 0);
    if (!Number.isInteger(warmupSteps) || warmupSteps < 0) throw new Error(`${name}: warmupSteps must be a non-negative integer, got ${String(warmupSteps)}`);
    checkBoolean(name, 'affine', affine);
    rejectFusedRelu(name, options);
    this.numFeatures = numFeatures;
    this.eps = eps;
    this.momentum = momentum;
    this.rmax = rmax;
    this.dmax = dmax;
    this.warmupSteps = warmupSteps;
    this.affine = affine;
    this.weight = this.registerParameter('weight', affine ? ones([numFeatures]) : null);
    this.bias = this.registerParameter('bias', affine ? zeros([numFeatures]) : null);
    this.unitScale = affine ? null : keep(ones([numFeatures]));
    this.zeroShift = affine ? null : keep(zeros([numFeatures]));
    this.runningMean = this.registerBuffer('runningMean', zeros([numFeatures]));
    this.runningVar = this.registerBuffer('runningVar', ones([numFeatures]));
    this.registerCounter('numBatchesTracked', 0);
  }

  /** Training batches counted so far. */
  get numBatchesTracked(): number {
    return this.counter('numBatchesTracked');
  }

  /** The bounds the next training step uses, after warm-up by the batches seen so far. */
  currentLimits(): RenormLimits {
    const t = this.counter('numBatchesTracked');
    const progress = this.warmupSteps === 0 ? 1 : Math.min(t / this.warmupSteps, 1);
    return { rmax: 1 + (this.rmax - 1) * progress, dmax: this.dmax * progress };
  }

  forward(x: Tensor): Tensor {
    checkChannels('BatchRenorm2d', x, [4], this.numFeatures);
    const weight = (this.weight ?? this.unitScale)!;
    const bias = (this.bias ?? this.zeroShift)!;
    const { runningMean, runningVar, eps, momentum } = this;
    const { rmax, dmax } = this.currentLimits();
    const y = batchRenorm(x, { runningMean, runningVar, weight, bias, training: this.training, momentum, eps, rmax, dmax });
    if (this.training) this.setCounter('numBatchesTracked', this.counter('numBatchesTracked') + 1);
    return y;
  }

  /** Running mean to 0, running variance to 1 and numBatchesTracked to 0 (in place), which restarts the warm-up. */
  resetRunningStats(): void {
    fillRunningStats(this.runningMean, this.runningVar);
    this.setCounter('numBatchesTracked', 0);
  }

  /** Resets the running statistics, and weight to 1 and bias to 0 (in place). */
  resetParameters(): void {
    this.resetRunningStats();
    fillIdentityAffine(this.weight, this.bias);
  }

  override dispose(): void {
    super.dispose();
    this.unitScale?.dispose();
    this.zeroShift?.dispose();
  }

  override extraRepr(): string {
    const { numFeatures, eps, momentum, rmax, dmax, warmupSteps, affine } = this;
    return `${numFeatures}, eps=${formatFloat(eps)}, momentum=${formatFloat(momentum)}, rmax=${formatFloat(rmax)}, dmax=${formatFloat(dmax)}, warmupSteps=${warmupSteps}, affine=${affine}`;
  }
}
