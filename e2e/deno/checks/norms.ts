// Batch, group, layer and instance norm forward and backward on odd shapes, WebGPU against the
// CPU reference; the long ones split their sums over two dispatch levels.
import { batchNorm, fromArray, groupNorm, instanceNorm, layerNorm, type Tensor } from '@welford/core';
import { compareForwardBackward, operand, type Check, type Operand } from '../check.ts';

/** γ around 1 (never near 0). */
const gamma = (shape: number[], seed: number): Operand => {
  const o = operand(shape, seed, 0.5);
  return { shape, data: o.data.map((v) => 1 + v) };
};
/** Running statistics on the input's device (fresh each call: batch norm updates them). */
const running = (x: Tensor, mean: number[], variance: number[]) => ({
  runningMean: fromArray(mean, [mean.length], { backend: x.backend }),
  runningVar: fromArray(variance, [variance.length], { backend: x.backend }),
});

interface NormCase {
  name: string;
  fn: (...xs: Tensor[]) => Tensor;
  operands: Operand[];
}

const cases: NormCase[] = [
  { name: 'batchNorm training [3, 5, 7, 9], affine', fn: (x, g, b) => batchNorm(x, { weight: g, bias: b, training: true }), operands: [operand([3, 5, 7, 9], 1, 2), gamma([5], 2), operand([5], 3)] },
  {
    name: 'batchNorm training [3, 5, 7, 9], running statistics, fused ReLU',
    fn: (x, g, b) => batchNorm(x, { ...running(x, [0, 1, -1, 0.5, 2], [1, 2, 0.5, 1, 3]), weight: g, bias: b, training: true, relu: true }),
    operands: [operand([3, 5, 7, 9], 4, 2), gamma([5], 5), operand([5], 6)],
  },
  {
    name: 'batchNorm evaluation [3, 5, 7, 9], affine',
    fn: (x, g, b) => batchNorm(x, { ...running(x, [0, 0.5, -0.5, 1, 0], [1, 2, 0.5, 1, 3]), weight: g, bias: b }),
    operands: [operand([3, 5, 7, 9], 7, 2), gamma([5], 8), operand([5], 9)],
  },
  { name: 'batchNorm training [3, 5, 7, 9], mean 1e4 (stable variance)', fn: (x) => batchNorm(x, { training: true }), operands: [operand([3, 5, 7, 9], 10, 1, 1e4)] },
  { name: 'groupNorm(3) [3, 6, 7, 9], affine', fn: (x, g, b) => groupNorm(x, 3, { weight: g, bias: b }), operands: [operand([3, 6, 7, 9], 11, 2), gamma([6], 12), operand([6], 13)] },
  { name: 'groupNorm(5) [3, 5, 7, 9], fused ReLU', fn: (x, g, b) => groupNorm(x, 5, { weight: g, bias: b, relu: true }), operands: [operand([3, 5, 7, 9], 14, 2), gamma([5], 15), operand([5], 16)] },
  { name: 'layerNorm [3, 5, 7, 9] over [7, 9], affine', fn: (x, g, b) => layerNorm(x, [7, 9], { weight: g, bias: b }), operands: [operand([3, 5, 7, 9], 17, 2), gamma([7, 9], 18), operand([7, 9], 19)] },
  { name: 'layerNorm [3, 5, 7, 9] over [5, 7, 9]', fn: (x) => layerNorm(x, [5, 7, 9]), operands: [operand([3, 5, 7, 9], 20, 2)] },
  { name: 'instanceNorm [3, 5, 7, 9], affine', fn: (x, g, b) => instanceNorm(x, { weight: g, bias: b }), operands: [operand([3, 5, 7, 9], 21, 2), gamma([5], 22), operand([5], 23)] },
  { name: 'batchNorm training [2, 3, 129, 127], affine (two-level sums)', fn: (x, g, b) => batchNorm(x, { weight: g, bias: b, training: true }), operands: [operand([2, 3, 129, 127], 24, 2), gamma([3], 25), operand([3], 26)] },
  { name: 'layerNorm [3, 20001], affine (two-level sums)', fn: (x, g, b) => layerNorm(x, [20_001], { weight: g, bias: b }), operands: [operand([3, 20_001], 27, 2), gamma([20_001], 28), operand([20_001], 29)] },
  { name: 'groupNorm(2) [2, 4, 99, 101], affine (two-level sums)', fn: (x, g, b) => groupNorm(x, 2, { weight: g, bias: b }), operands: [operand([2, 4, 99, 101], 30, 2), gamma([4], 31), operand([4], 32)] },
];

export const normChecks: Check[] = cases.map((c) => ({
  name: `${c.name}: forward and backward`,
  run: (ctx) => compareForwardBackward(ctx, c.fn, c.operands),
}));
