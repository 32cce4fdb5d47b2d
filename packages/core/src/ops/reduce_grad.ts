import type { Tensor } from '../tensor/tensor.ts';
import { sameShape, type Shape } from '../util/shape.ts';
import { runOp } from './dispatch.ts';

/**
 * Sums a broadcast gradient back to the shape of the input it came from: over the leading
 * dimensions the input lacked and over dimensions where the input had size 1.
 */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  // The `sum` op of ops/reduce.ts (run by name: reduce.ts differentiates with the elementwise
  // and layout ops, which differentiate with this).
  const summed = runOp<{ axes: number[]; keepDims: boolean }>('sum', [g], { axes, keepDims: false });
  return sameShape(summed.shape, shape) ? summed : summed.view(shape);
}
