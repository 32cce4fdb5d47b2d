import type { Tensor } from '../tensor/tensor.ts';
import { rowLayout, softmaxBackwardProgram, softmaxProgram } from '../kernels/softmax.ts';
import { softmaxBackwardReference, softmaxReference } from '../reference/softmax.ts';
import { assertRankAtMost, normalizeAxes, type Shape } from '../util/shape.ts';
import { runOp } from './dispatch.ts';
import { registerOp } from './registry.ts';

interface AxisAttrs {
  axis: number;
}

/** The axis as a non-negative number; a 0-d tensor is one line of one element. */
function lineAxis(op: string, shape: Shape, axis: number): number {
  if (shape.length === 0 && (axis === 0 || axis === -1)) return 0;
  return normalizeAxes(op, axis, shape.length)[0];
}

const asLines = (shape: Shape): Shape => (shape.length === 0 ? [1] : shape);

for (const log of [false, true]) {
  const name = log ? 'logSoftmax' : 'softmax';
  const backwardName = `${name}Backward`;
  registerOp<AxisAttrs>({
    name,
    shape: ([x], { axis }) => {
      lineAxis(name, x, axis);
      assertRankAtMost(name, x);
      return x;
    },
    cpu: ([x], out, { axis }) => softmaxReference({ shape: asLines(x.shape), data: x.data }, out, lineAxis(name, x.shape, axis), log),
    gpu: ([x], out, { axis }) => [softmaxProgram(rowLayout(asLines(x.shape), lineAxis(name, x.shape, axis)), log, x, out)],
    backward: ({ grad, output, attrs }) => [runOp<AxisAttrs>(backwardName, [output, grad], attrs)],
  });
  // Inputs: the forward output y and its gradient g; output: the gradient of x.
  registerOp<AxisAttrs>({
    name: backwardName,
    shape: ([y], { axis }) => {
      lineAxis(backwardName, y, axis);
      return y;
    },
    cpu: ([y, g], dx, { axis }) => softmaxBackwardReference({ shape: asLines(y.shape), data: y.data }, g, dx, lineAxis(backwardName, y.shape, axis), log),
    gpu: ([y, g], dx, { axis }) => [softmaxBackwardProgram(rowLayout(asLines(y.shape), lineAxis(backwardName, y.shape, axis)), log, y, g, dx)],
  });
}

/**
 * exp(x) / Σ exp(x) along `axis` (default: the last), computed with the maximum subtracted so
 * that large logits do not overflow. Any axis works; the GPU reads non-last axes with strides.
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  return runOp<AxisAttrs>('softmax', [x], { axis });
}

/** log(softmax(x)) along `axis` (default: the last), as x − max − log Σ exp(x − max): stable for large logits. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return runOp<AxisAttrs>('logSoftmax', [x], { axis });
}
