import { add, crossEntropy, fromArray, gather, mul, noGrad, tidy, type Tensor } from '@welford/core';
import { checkNumber, checkPositive } from './checks.ts';
import { permutation, sampleBeta } from './random.ts';
import type { RandomSource } from './types.ts';

/** A mixed batch: x = λ·x + (1 − λ)·x[partner], to be scored against both label sets. */
export interface MixupBatch {
  x: Tensor;
  /** The batch's own labels (a view of batch.y: disposing both is fine). */
  yA: Tensor;
  /** The partners' labels, yA[partner]. */
  yB: Tensor;
  /** λ ~ Beta(α, α), rounded to float32 so that the mix on the device uses exactly this value. */
  lambda: number;
  /** partner[i]: the sample mixed into sample i (a random permutation of the batch). */
  partner: number[];
}

/**
 * Mixup (Zhang et al., 2018) on a classification batch: draws λ ~ Beta(alpha, alpha), then a
 * random permutation, and mixes every image with its partner's. Data preparation: nothing is
 * recorded for backward, and the intermediates are freed. Returns new tensors the caller owns.
 * Train with `mixupLoss(logits, yA, yB, lambda)`.
 */
export function mixup(batch: { x: Tensor; y: Tensor }, alpha: number, rng: RandomSource): MixupBatch {
  checkPositive('mixup', 'alpha', alpha);
  const { x, y } = batch;
  const n = x.shape[0];
  if (x.rank < 1 || y.rank !== 1 || y.shape[0] !== n) {
    throw new Error(`mixup: expected x of shape [B, ...] and y of shape [B], got x [${x.shape.join(', ')}] and y [${y.shape.join(', ')}]`);
  }
  const lambda = Math.fround(sampleBeta(rng, alpha, alpha));
  const partner = permutation(n, rng);
  // gather along dim 0 needs an index of x's full shape: each row repeats its partner's number.
  const rowSize = x.size / Math.max(n, 1);
  const index = new Float32Array(x.size);
  for (let i = 0; i < n; i++) index.fill(partner[i], i * rowSize, (i + 1) * rowSize);
  const { mixed, yB } = noGrad(() =>
    tidy(() => {
      const xB = gather(x, 0, fromArray(index, x.shape, { backend: x.backend }));
      return {
        mixed: add(mul(x, lambda), mul(xB, Math.fround(1 - lambda))),
        yB: gather(y, 0, fromArray(partner, [n], { backend: y.backend })),
      };
    }),
  );
  return { x: mixed, yA: y.detach(), yB, lambda, partner };
}

/**
 * λ·crossEntropy(logits, yA) + (1 − λ)·crossEntropy(logits, yB): the loss of a mixed batch,
 * differentiable in the logits. Like any composition of ops it leaves intermediates for the
 * caller's `tidy` to free.
 */
export function mixupLoss(logits: Tensor, yA: Tensor, yB: Tensor, lambda: number): Tensor {
  checkNumber('mixupLoss', 'lambda', lambda, 0, 1);
  return add(mul(crossEntropy(logits, yA), lambda), mul(crossEntropy(logits, yB), 1 - lambda));
}
