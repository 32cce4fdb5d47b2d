import { assign, type Tensor } from '@welford/core';
import { checkNumber } from '../checks.ts';

// Option checks and `extraRepr` formatting shared by the normalization layers.

/**
 * Throws when `options` still carries `relu`, which the normalization layers once took: a
 * silently ignored option would drop the ReLU. A ReLU module after the norm does the same, and
 * the two still run as one kernel pass (the fusion sits below the module layer).
 */
export function rejectFusedRelu(layer: string, options: object): void {
  if ('relu' in options) {
    throw new Error(`${layer}: the relu option was removed; put a ReLU module after the norm (norm and ReLU still run as one fused kernel pass)`);
  }
}

/** Throws unless `value` is a boolean, naming the layer and the option. */
export function checkBoolean(layer: string, option: string, value: unknown): void {
  if (typeof value !== 'boolean') throw new Error(`${layer}: ${option} must be a boolean, got ${String(value)}`);
}

/** eps is added to a variance inside a square root: it must be a positive finite number. */
export function checkEps(layer: string, eps: number): void {
  checkNumber(layer, 'eps', eps);
  if (!(eps > 0)) throw new Error(`${layer}: eps must be a positive finite number, got ${String(eps)}`);
}

/** momentum is the weight of the new batch in a running average: a number in [0, 1], or null where `allowNull`. */
export function checkMomentum(layer: string, momentum: number | null, allowNull: boolean): void {
  if (momentum === null) {
    if (!allowNull) throw new Error(`${layer}: momentum must be a number in [0, 1], got null`);
    return;
  }
  checkNumber(layer, 'momentum', momentum, 0, 1);
}

/**
 * A number as Python's `repr` writes a float in PyTorch's layer descriptions: `1e-05`, `0.1`,
 * so `toString()` reads like `print(model)`.
 */
export function formatFloat(v: number): string {
  if (v !== 0 && Number.isFinite(v) && Math.abs(v) < 1e-4) return v.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return String(v);
}

/** Running mean to 0 and running variance to `initialVar` (PyTorch: 1), in place. */
export function fillRunningStats(runningMean: Tensor, runningVar: Tensor, initialVar = 1): void {
  assign(runningMean, new Float32Array(runningMean.size));
  assign(runningVar, new Float32Array(runningVar.size).fill(initialVar));
}

/** Weight (γ) to 1 and bias (β) to 0, in place: the identity affine of a fresh norm layer. */
export function fillIdentityAffine(weight: Tensor | null, bias: Tensor | null): void {
  if (weight) assign(weight, new Float32Array(weight.size).fill(1));
  if (bias) assign(bias, new Float32Array(bias.size));
}
