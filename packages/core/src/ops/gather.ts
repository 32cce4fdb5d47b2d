import type { Tensor } from '../tensor/tensor.ts';
import { gatherBackwardProgram, gatherProgram } from '../kernels/gather.ts';
import { gatherBackwardReference, gatherIndexMessage, gatherReference } from '../reference/gather.ts';
import { assertRankAtMost, normalizeAxes, shapeToString, sizeOf, type Shape } from '../util/shape.ts';
import { runOp } from './dispatch.ts';
import { registerOp } from './registry.ts';

interface GatherAttrs {
  dim: number;
}

interface GatherBackwardAttrs {
  dim: number;
  xShape: Shape;
}

/** torch.gather's shape rule: index has x's rank and fits inside x in every dimension but dim. */
function checkGather(x: Shape, index: Shape, dim: number): number {
  if (x.length === 0) throw new Error(`gather: x must have at least one dimension, got shape ${shapeToString(x)}`);
  const d = normalizeAxes('gather', dim, x.length)[0];
  if (index.length !== x.length) {
    throw new Error(`gather: index must have the rank of x (x shape ${shapeToString(x)}, index shape ${shapeToString(index)})`);
  }
  for (let i = 0; i < x.length; i++) {
    if (i !== d && index[i] > x[i]) {
      throw new Error(`gather: index shape ${shapeToString(index)} does not fit x shape ${shapeToString(x)} outside dim ${d} (dimension ${i}: ${index[i]} > ${x[i]})`);
    }
  }
  if (x[d] === 0 && sizeOf(index) > 0) throw new Error(`gather: cannot gather from dimension ${d} of x, which has size 0 (x shape ${shapeToString(x)})`);
  assertRankAtMost('gather', x);
  return d;
}

registerOp<GatherAttrs>({
  name: 'gather',
  shape: ([x, index], { dim }) => {
    checkGather(x, index, dim);
    return index;
  },
  cpu: ([x, index], out, { dim }) => gatherReference(x, index, out, checkGather(x.shape, index.shape, dim)),
  gpu: ([x, index], out, { dim }) => [gatherProgram(checkGather(x.shape, index.shape, dim), x, index, out)],
  indexChecks: ([x, index], { dim }) => {
    const d = checkGather(x, index, dim);
    return [{ input: 1, limit: x[d], message: (v) => gatherIndexMessage(v, x[d], d) }];
  },
  backward: ({ grad, inputs: [x, index], attrs: { dim } }) => [
    runOp<GatherBackwardAttrs>('gatherBackward', [grad, index], { dim: checkGather(x.shape, index.shape, dim), xShape: x.shape }),
    null,
  ],
});

// Inputs: the gradient of gather's output and the index; output: the gradient of x.
registerOp<GatherBackwardAttrs>({
  name: 'gatherBackward',
  shape: ([, index], { dim, xShape }) => {
    checkGather(xShape, index, dim);
    return xShape;
  },
  cpu: ([grad, index], dx, { dim }) => gatherBackwardReference(grad, index, dx, dim),
  gpu: ([grad, index], dx, { dim }) => [gatherBackwardProgram(dim, grad, index, dx)],
});

/**
 * torch.gather: out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (likewise for other dims);
 * the output has the index's shape. `index` is a float32 tensor holding integers in
 * [0, x.shape[dim]); it must have x's rank and be no larger than x outside `dim`. Another
 * index value is an error on every backend: raised by this call on the CPU, and by the next
 * read on the GPU (whose kernel clamps it rather than read out of bounds, and checks it beside).
 * Differentiable in x; the index gets no gradient.
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  return runOp<GatherAttrs>('gather', [x, index], { dim });
}
