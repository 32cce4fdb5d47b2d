import { whereProgram } from '../kernels/layout.ts';
import { whereReference } from '../reference/layout.ts';
import { Tensor } from '../tensor/tensor.ts';
import { assertRankAtMost, broadcastShapes, shapeToString, type Shape } from '../util/shape.ts';
import { commonBackend, runOp } from './dispatch.ts';
import { full } from './elementwise.ts';
import { registerOp } from './registry.ts';
import { sumToShape } from './reduce_grad.ts';

function whereShape(cond: Shape, a: Shape, b: Shape): number[] {
  const shapes = [cond, a, b];
  const rank = Math.max(cond.length, a.length, b.length);
  for (let i = 0; i < rank; i++) {
    const sizes = new Set(shapes.map((s) => s[s.length - rank + i] ?? 1).filter((d) => d !== 1));
    if (sizes.size > 1) {
      throw new Error(
        `where: condition ${shapeToString(cond)}, a ${shapeToString(a)} and b ${shapeToString(b)} cannot be broadcast together ` +
          `(dimension ${i} of the result: sizes ${[...sizes].join(' vs ')})`,
      );
    }
  }
  const out = broadcastShapes('where', broadcastShapes('where', cond, a), b);
  assertRankAtMost('where', out);
  return out;
}

registerOp<Record<string, never>>({
  name: 'where',
  shape: ([cond, a, b]) => whereShape(cond, a, b),
  cpu: ([cond, a, b], out) => whereReference(cond, a, b, out),
  gpu: ([cond, a, b], out) => [whereProgram(cond, a, b, out)],
  // The gradient goes to a where the condition holds and to b elsewhere; none to the condition.
  backward: ({ grad, inputs: [cond, a, b] }) => {
    const zero = full([], 0, grad.backend);
    return [
      null,
      a.requiresGrad ? sumToShape(where(cond, grad, zero), a.shape) : null,
      b.requiresGrad ? sumToShape(where(cond, zero, grad), b.shape) : null,
    ];
  },
});

/**
 * Elementwise select (torch.where): a where `cond` is nonzero (NaN counts as nonzero), else b.
 * All three broadcast together; a number for a or b is a one-element tensor.
 */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const tensors = [cond, a, b].filter((t): t is Tensor => t instanceof Tensor);
  const backend = commonBackend('where', tensors);
  const operand = (v: Tensor | number) => (typeof v === 'number' ? full([], v, backend) : v);
  return runOp('where', [cond, operand(a), operand(b)], {});
}
