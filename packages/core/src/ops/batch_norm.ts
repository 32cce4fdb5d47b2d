import type { Tensor } from '../tensor/tensor.ts';
import { renormFactorsProgram } from '../kernels/norm.ts';
import { renormFactorsReference } from '../reference/norm.ts';
import { sameShape, shapeToString } from '../util/shape.ts';
import { checkBatchNorm, evaluate, perChannel, PER_CHANNEL, unbiasFactor, updateRunning, type BatchNormOptions } from './batch_norm_parts.ts';
import { runOp } from './dispatch.ts';
import { emptyNorm, normalize, normStatistics, registerNorm } from './norm.ts';
import { registerOp } from './registry.ts';

// Declared beside the checks that read it (batch_norm_parts.ts imports nothing of this file).
export type { BatchNormOptions } from './batch_norm_parts.ts';

registerNorm('batchNorm');
registerNorm('batchRenorm');

interface FactorAttrs {
  eps: number;
  rmax: number;
  dmax: number;
}

// Inputs: batch statistics [2, C], running mean and variance; output [4, C]: mean, var, r, d.
registerOp<FactorAttrs>({
  name: 'batchRenormFactors',
  shape: ([stats, runningMean, runningVar]) => {
    const c = stats[1];
    if (stats.length !== 2 || stats[0] !== 2 || !sameShape(runningMean, [c]) || !sameShape(runningVar, [c])) {
      throw new Error(`batchRenormFactors: expected statistics [2, C] and running statistics [C], got ${shapeToString(stats)}, ${shapeToString(runningMean)}, ${shapeToString(runningVar)}`);
    }
    return [4, c];
  },
  cpu: ([stats, runningMean, runningVar], out, attrs) => renormFactorsReference(stats, runningMean, runningVar, out, attrs),
  gpu: ([stats, runningMean, runningVar], out, attrs) => [renormFactorsProgram({ stats, runningMean, runningVar }, out, attrs)],
  backward: null,
});

export interface BatchRenormOptions {
  runningMean: Tensor;
  runningVar: Tensor;
  weight: Tensor;
  bias: Tensor;
  training?: boolean;
  momentum?: number;
  eps?: number;
  /** r is clipped to [1/rmax, rmax] (rmax >= 1). */
  rmax: number;
  /** d is clipped to [−dmax, dmax] (dmax >= 0). */
  dmax: number;
  /** Applies ReLU to the result in the same pass (default false). */
  relu?: boolean;
}

/**
 * Batch normalization, as torch.nn.functional.batch_norm: per channel of an input (N, C),
 * (N, C, L) or (N, C, H, W) (any spatial rank), y = γ·(x − mean)/sqrt(var + eps) + β. Training
 * uses the batch's mean and biased variance and, given running statistics, updates them in
 * place: running = (1 − momentum)·running + momentum·batch, with the unbiased variance
 * (momentum null: the cumulative average over numBatchesTracked batches). Evaluation uses the
 * running statistics. The gradient is exact: dense across the batch when training, diagonal
 * in evaluation. `relu` fuses a ReLU into the same pass.
 */
export function batchNorm(input: Tensor, options: BatchNormOptions = {}): Tensor {
  const { runningMean, runningVar, weight, bias, eps = 1e-5, relu = false } = options;
  const { training, factor } = checkBatchNorm('batchNorm', input, options);
  if (input.size === 0) return emptyNorm(input);
  if (!training) return evaluate('batchNorm', input, runningMean!, runningVar!, weight, bias, eps, relu);
  const stats = normStatistics(input, PER_CHANNEL);
  if (factor !== null) updateRunning('batchNorm', stats, runningMean!, runningVar!, factor, unbiasFactor(perChannel(input.shape)));
  return normalize('batchNorm', input, stats, weight, bias, { grouping: PER_CHANNEL, eps, relu, batchStats: true, renorm: false, hasWeight: !!weight, hasBias: !!bias });
}

/**
 * Batch renormalization (Ioffe 2017): when training, y = γ·((x − μ_B)/σ_B·r + d) + β with
 * σ_B = sqrt(var_B + eps), r = clip(σ_B/σ, 1/rmax, rmax) and d = clip((μ_B − μ)/σ, −dmax, dmax)
 * from the running statistics (σ = sqrt(running var + eps)) before this call updates them as
 * batchNorm does. r and d are constants for the gradient. With training false it is batchNorm
 * in evaluation. `relu` fuses a ReLU into the same pass.
 */
export function batchRenorm(input: Tensor, options: BatchRenormOptions): Tensor {
  const op = 'batchRenorm';
  const { runningMean, runningVar, weight, bias, training = false, momentum = 0.1, eps = 1e-5, rmax, dmax, relu = false } = options;
  for (const [what, t] of Object.entries({ runningMean, runningVar, weight, bias })) {
    if (t === undefined) throw new Error(`${op}: ${what} is required`);
  }
  if (typeof rmax !== 'number' || !(rmax >= 1) || !Number.isFinite(rmax)) throw new Error(`${op}: rmax must be a finite number >= 1, got ${String(rmax)}`);
  if (typeof dmax !== 'number' || !(dmax >= 0) || !Number.isFinite(dmax)) throw new Error(`${op}: dmax must be a finite number >= 0, got ${String(dmax)}`);
  if (momentum === null) throw new Error(`${op}: momentum must be a number, got null`);
  const { factor } = checkBatchNorm(op, input, { runningMean, runningVar, weight, bias, training, momentum, eps, relu });
  if (input.size === 0) return emptyNorm(input);
  if (!training) return evaluate(op, input, runningMean, runningVar, weight, bias, eps, relu);
  const batch = normStatistics(input, PER_CHANNEL);
  const stats = runOp<FactorAttrs>('batchRenormFactors', [batch, runningMean, runningVar], { eps, rmax, dmax });
  // r and d are recorded before the update below changes the running statistics.
  batch.dispose();
  updateRunning(op, stats, runningMean, runningVar, factor!, unbiasFactor(perChannel(input.shape)));
  return normalize(op, input, stats, weight, bias, { grouping: PER_CHANNEL, eps, relu, batchStats: true, renorm: true, hasWeight: true, hasBias: true });
}
