import { noGrad } from '../tensor/grad_mode.ts';
import { assign } from '../ops/assign.ts';
import { abs, add, div, full, maximum, minimum, mul, powScalar, sqrt, square } from '../ops/elementwise.ts';
import { max, sum } from '../ops/reduce.ts';
import { zeros } from '../ops/creation.ts';
import { tidy } from '../tensor/scope.ts';
import type { Tensor } from '../tensor/tensor.ts';

export interface ClipGradNormOptions {
  /** The p of the p-norm: 2 (default), Infinity (largest magnitude), or any finite p > 0. */
  normType?: number;
}

/**
 * `torch.nn.utils.clip_grad_norm_`: the norm of all gradients together (as if concatenated
 * into one vector) is returned as a tensor of shape [], and every gradient is scaled in place by
 * min(1, maxNorm / (total + 1e-6)). Everything stays on the device: nothing is read back, so a
 * training step that clips does not wait on the GPU (read the returned norm when you need it,
 * and dispose it). Parameters without a gradient are skipped; with none, the norm is 0.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, options: ClipGradNormOptions = {}): Tensor {
  const normType = options.normType ?? 2;
  if (typeof maxNorm !== 'number' || !Number.isFinite(maxNorm) || maxNorm < 0) {
    throw new Error(`clipGradNorm: maxNorm must be a finite number >= 0, got ${String(maxNorm)}`);
  }
  if (typeof normType !== 'number' || !(normType > 0)) {
    throw new Error(`clipGradNorm: normType must be a number > 0 or Infinity, got ${String(normType)}`);
  }
  const grads = gradsOf(params);
  if (grads.length === 0) return zeros([]);
  return noGrad(() => {
    const total = tidy(() => totalNorm(grads, normType));
    tidy(() => {
      const coef = minimum(div(full([], maxNorm, total.backend), add(total, 1e-6)), 1);
      for (const g of grads) assign(g, mul(g, coef));
    });
    return total;
  });
}

/**
 * `torch.nn.utils.clip_grad_value_`: clamps every gradient to [−clipValue, clipValue] in place,
 * on the device. Parameters without a gradient are skipped.
 */
export function clipGradValue(params: Iterable<Tensor>, clipValue: number): void {
  if (typeof clipValue !== 'number' || !Number.isFinite(clipValue) || clipValue < 0) {
    throw new Error(`clipGradValue: clipValue must be a finite number >= 0, got ${String(clipValue)}`);
  }
  const grads = gradsOf(params);
  if (grads.length === 0) return;
  noGrad(() =>
    tidy(() => {
      const backend = grads[0].backend;
      const lo = full([], -clipValue, backend);
      const hi = full([], clipValue, backend);
      for (const g of grads) assign(g, minimum(maximum(g, lo), hi));
    }),
  );
}

/** The gradients of `params` that exist and hold values (an empty gradient adds nothing to any norm). */
function gradsOf(params: Iterable<Tensor>): Tensor[] {
  const out: Tensor[] = [];
  for (const p of params) if (p.grad && p.grad.size > 0) out.push(p.grad);
  return out;
}

/** (Σ_g Σ |g|^p)^(1/p), or max |g| for p = ∞, accumulated on the device. */
function totalNorm(grads: readonly Tensor[], p: number): Tensor {
  let acc: Tensor | null = null;
  for (const g of grads) {
    const part = p === Infinity ? max(abs(g)) : sum(p === 2 ? square(g) : p === 1 ? abs(g) : powScalar(abs(g), p));
    acc = acc === null ? part : p === Infinity ? maximum(acc, part) : add(acc, part);
  }
  if (p === Infinity || p === 1) return acc!;
  return p === 2 ? sqrt(acc!) : powScalar(acc!, 1 / p);
}
