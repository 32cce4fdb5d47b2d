import { eq, fromArray, max, min, where, type Tensor } from '@welford/core';

/**
 * The index of the largest value along `axis` (torch.argmax: the first index among ties), as
 * float32 integers, on the device. The axis is removed from the shape. Not differentiable: call
 * it under `noGrad` when the input records gradients.
 */
export function argmax(x: Tensor, axis: number): Tensor {
  const a = axis < 0 ? axis + x.rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= x.rank) throw new Error(`argmax: axis ${axis} is out of range for a tensor of shape [${x.shape.join(', ')}]`);
  const k = x.shape[a];
  const isMax = eq(x, max(x, a, true));
  // Each maximal entry keeps its index, the others become k; the smallest is the first maximum.
  return min(where(isMax, indexAlong(x, a, k), k), a);
}

/** 0, 1, ..., k − 1 along `axis`, shaped to broadcast against `x`. */
export function indexAlong(x: Tensor, axis: number, k: number): Tensor {
  const shape = x.shape.map((d, i) => (i === axis ? k : 1));
  return fromArray(Float32Array.from({ length: k }, (_, i) => i), shape, { backend: x.backend });
}
