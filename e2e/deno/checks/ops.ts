// The other kernel families a network uses (products, pooling, upsampling, softmax, reductions,
// broadcasting), forward and backward against the CPU reference: each builds its pipelines, with
// their override constants, through naga.
import { avgPool2d, exp, linear, logSoftmax, matmul, max, maxPool2d, mul, softmax, sum, upsampleBilinear2d, variance, type Tensor } from '@welford/core';
import { compareForwardBackward, operand, type Check, type Operand } from '../check.ts';

interface OpCase {
  name: string;
  fn: (...xs: Tensor[]) => Tensor;
  operands: Operand[];
}

const cases: OpCase[] = [
  { name: 'matmul [7, 13] × [13, 5]', fn: (a, b) => matmul(a, b), operands: [operand([7, 13], 1), operand([13, 5], 2)] },
  { name: 'linear [9, 17] → 6, bias', fn: (x, w, b) => linear(x, w, b), operands: [operand([9, 17], 3), operand([6, 17], 4), operand([6], 5)] },
  { name: 'softmax [5, 11]', fn: (x) => softmax(x), operands: [operand([5, 11], 6, 3)] },
  { name: 'logSoftmax [3, 5, 7] over axis 1', fn: (x) => logSoftmax(x, 1), operands: [operand([3, 5, 7], 7, 3)] },
  { name: 'maxPool2d [3, 5, 9, 7], kernel 3, stride 2, padding 1', fn: (x) => maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }), operands: [operand([3, 5, 9, 7], 8)] },
  { name: 'avgPool2d [3, 5, 9, 7], kernel 3, stride 2, padding 1, padding not counted', fn: (x) => avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false }), operands: [operand([3, 5, 9, 7], 9)] },
  { name: 'upsampleBilinear2d [2, 3, 5, 7], scale 2', fn: (x) => upsampleBilinear2d(x, { scale: 2 }), operands: [operand([2, 3, 5, 7], 10)] },
  { name: 'sum [3, 5, 7, 9] over [0, 2]', fn: (x) => sum(x, [0, 2]), operands: [operand([3, 5, 7, 9], 11)] },
  { name: 'variance [3, 5, 7, 9] over [1, 3], mean 1e3', fn: (x) => variance(x, [1, 3]), operands: [operand([3, 5, 7, 9], 12, 1, 1e3)] },
  { name: 'max [3, 5, 7] over axis 1', fn: (x) => max(x, 1), operands: [operand([3, 5, 7], 13)] },
  { name: 'exp(a) · b, broadcast [3, 1, 7] by [5, 1]', fn: (a, b) => mul(exp(a), b), operands: [operand([3, 1, 7], 14), operand([5, 1], 15)] },
];

export const opChecks: Check[] = cases.map((c) => ({
  name: `${c.name}: forward and backward`,
  run: (ctx) => compareForwardBackward(ctx, c.fn, c.operands),
}));
