// The 2-norm of a set of weights, computed on the device and read back as one number: what the
// weight-decay experiment tracks while a network trains (reading it never blocks a step).
import { add, noGrad, sqrt, square, sum, tidy, type Tensor } from '@welford/core';
import { readScalar } from './read_scalar.ts';

/** sqrt(Σ over `tensors` of Σ w²), the norm of all of them as one vector: a 0-d tensor the caller disposes. */
export function jointNorm(tensors: readonly Tensor[]): Tensor {
  if (tensors.length === 0) throw new Error('jointNorm: expected at least one tensor, got none');
  return noGrad(() => tidy(() => sqrt(tensors.map((t) => sum(square(t))).reduce((a, b) => add(a, b)))));
}

/**
 * The joint norm of `tensors` as they are now, read back. The norm is recorded at the call, so
 * later updates of the weights (the next optimizer steps) do not change the number read.
 */
export function readJointNorm(tensors: readonly Tensor[]): Promise<number> {
  return readScalar(jointNorm(tensors));
}
