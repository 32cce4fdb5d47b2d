import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { Tensor, WebGpuBackend } from '../src/index.ts';
import { compareBackward, gradcheck, type GradInput } from './gradcheck.ts';
import { cpuBackend, expectClose, gpuBackend, randomData } from './helpers.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);
const input = (shape: number[], seed: number, scale = 2): GradInput => ({ shape, data: randomData(size(shape), seed, scale) });
/** γ around 1 (never near 0) and β. */
const gamma = (shape: number[], seed: number): GradInput => ({ shape, data: randomData(size(shape), seed).map((v) => 1 + 0.5 * v) });
const beta = (shape: number[], seed: number): GradInput => ({ shape, data: randomData(size(shape), seed) });
/** Running statistics made on the input's device (fresh each call: batch norm updates them). */
const running = (x: Tensor, mean: number[], variance: number[]) => ({
  runningMean: w.fromArray(mean, [mean.length], { backend: x.backend }),
  runningVar: w.fromArray(variance, [variance.length], { backend: x.backend }),
});

interface GradCase {
  name: string;
  fn: (...xs: Tensor[]) => Tensor;
  inputs: GradInput[];
  /** Finite-difference step; smaller where an output sits near the ReLU's kink. */
  eps?: number;
}

const gradCases: GradCase[] = [
  { name: 'batchNorm training [4, 3], affine', fn: (x, g, b) => w.batchNorm(x, { weight: g, bias: b, training: true }), inputs: [input([4, 3], 1), gamma([3], 2), beta([3], 3)] },
  { name: 'batchNorm training [2, 3, 5]', fn: (x) => w.batchNorm(x, { training: true }), inputs: [input([2, 3, 5], 4)] },
  {
    name: 'batchNorm training [3, 2, 2, 2] with running statistics, affine',
    fn: (x, g, b) => w.batchNorm(x, { ...running(x, [0, 1], [1, 2]), weight: g, bias: b, training: true }),
    inputs: [input([3, 2, 2, 2], 5), gamma([2], 6), beta([2], 7)],
  },
  {
    name: 'batchNorm training [3, 2, 4], affine, fused ReLU',
    fn: (x, g, b) => w.batchNorm(x, { weight: g, bias: b, training: true, relu: true }),
    inputs: [input([3, 2, 4], 8), gamma([2], 9), beta([2], 10)],
  },
  {
    name: 'batchNorm evaluation [3, 2, 4], affine',
    fn: (x, g, b) => w.batchNorm(x, { ...running(x, [0.5, -1], [0.7, 3]), weight: g, bias: b }),
    inputs: [input([3, 2, 4], 11), gamma([2], 12), beta([2], 13)],
  },
  {
    name: 'batchNorm evaluation [4, 3], fused ReLU',
    fn: (x, g, b) => w.batchNorm(x, { ...running(x, [0.5, -1, 0], [0.7, 3, 1]), weight: g, bias: b, relu: true }),
    inputs: [input([4, 3], 14), gamma([3], 15), beta([3], 16)],
  },
  { name: 'groupNorm(2) [2, 4, 3], affine', fn: (x, g, b) => w.groupNorm(x, 2, { weight: g, bias: b }), inputs: [input([2, 4, 3], 17), gamma([4], 18), beta([4], 19)] },
  { name: 'groupNorm(1) [3, 2, 2, 2], affine', fn: (x, g, b) => w.groupNorm(x, 1, { weight: g, bias: b }), inputs: [input([3, 2, 2, 2], 20), gamma([2], 21), beta([2], 22)] },
  // One output is 0.0016: a step of 1e-2 would cross the kink.
  { name: 'groupNorm(3) [2, 6, 2], fused ReLU', fn: (x, g, b) => w.groupNorm(x, 3, { weight: g, bias: b, relu: true }), inputs: [input([2, 6, 2], 23), gamma([6], 24), beta([6], 25)], eps: 1e-3 },
  { name: 'instanceNorm [2, 3, 4], affine', fn: (x, g, b) => w.instanceNorm(x, { weight: g, bias: b }), inputs: [input([2, 3, 4], 26), gamma([3], 27), beta([3], 28)] },
  { name: 'instanceNorm [2, 2, 3, 2]', fn: (x) => w.instanceNorm(x), inputs: [input([2, 2, 3, 2], 29)] },
  { name: 'layerNorm [3, 4] over [4], affine', fn: (x, g, b) => w.layerNorm(x, [4], { weight: g, bias: b }), inputs: [input([3, 4], 30), gamma([4], 31), beta([4], 32)] },
  { name: 'layerNorm [2, 3, 4] over [3, 4], affine', fn: (x, g, b) => w.layerNorm(x, [3, 4], { weight: g, bias: b }), inputs: [input([2, 3, 4], 33), gamma([3, 4], 34), beta([3, 4], 35)] },
  { name: 'layerNorm [3, 5] over [5], fused ReLU', fn: (x, g, b) => w.layerNorm(x, [5], { weight: g, bias: b, relu: true }), inputs: [input([3, 5], 36), gamma([5], 37), beta([5], 38)] },
  {
    // r and d clipped (running variance far off, running mean far off): then they are locally
    // constant, and finite differences see exactly what the backward treats as constants.
    name: 'batchRenorm training [4, 3, 2], r and d clipped',
    fn: (x, g, b) => w.batchRenorm(x, { ...running(x, [5, -5, 4], [0.01, 100, 0.02]), weight: g, bias: b, training: true, rmax: 1.5, dmax: 0.5 }),
    inputs: [input([4, 3, 2], 39), gamma([3], 40), beta([3], 41)],
  },
  {
    name: 'batchRenorm evaluation [4, 3]',
    fn: (x, g, b) => w.batchRenorm(x, { ...running(x, [0.2, 0, -0.1], [0.5, 1, 2]), weight: g, bias: b, rmax: 3, dmax: 5 }),
    inputs: [input([4, 3], 42), gamma([3], 43), beta([3], 44)],
  },
];

describe('normalization backward: finite differences on the CPU reference', () => {
  for (const c of gradCases) {
    it(`gradcheck ${c.name}`, async () => {
      await gradcheck(c.fn, c.inputs, { eps: c.eps ?? 1e-2 });
    });
  }

  it('the batch-norm gradient of a plain sum is zero in training (the output has mean 0 per channel)', async () => {
    const x = w.fromArray(randomData(24, 3, 2), [4, 3, 2], { backend: cpuBackend(), requiresGrad: true });
    w.sum(w.batchNorm(x, { training: true })).backward();
    expectClose(await x.grad!.toArray(), new Float32Array(24), 1e-6, 0);
  });

  it('batch renorm with unclipped r and d matches the composed formula with r and d held constant', async () => {
    const backend = cpuBackend();
    const shape = [5, 3, 2];
    const data = randomData(30, 51, 2);
    const rm = [0.1, -0.2, 0.05];
    const rv = [1.1, 0.8, 1.3];
    const eps = 1e-3;
    const g = randomData(3, 52).map((v) => 1 + 0.5 * v);
    const b = randomData(3, 53);
    const upstream = w.fromArray(randomData(30, 54), shape, { backend });
    const leaves = () => [w.fromArray(data, shape, { backend, requiresGrad: true }), w.fromArray(g, [3], { backend, requiresGrad: true }), w.fromArray(b, [3], { backend, requiresGrad: true })];

    const [x1, g1, b1] = leaves();
    w.batchRenorm(x1, { runningMean: w.fromArray(rm, [3], { backend }), runningVar: w.fromArray(rv, [3], { backend }), weight: g1, bias: b1, training: true, rmax: 10, dmax: 10, eps }).backward(upstream);

    // r and d from the batch, as plain numbers: constants for autograd.
    const r: number[] = [];
    const d: number[] = [];
    for (let c = 0; c < 3; c++) {
      const v: number[] = [];
      for (let n = 0; n < 5; n++) for (let j = 0; j < 2; j++) v.push(data[(n * 3 + c) * 2 + j]);
      const mean = v.reduce((s, u) => s + u, 0) / v.length;
      const sigmaB = Math.sqrt(v.reduce((s, u) => s + (u - mean) ** 2, 0) / v.length + eps);
      const sigma = Math.sqrt(rv[c] + eps);
      r.push(sigmaB / sigma);
      d.push((mean - rm[c]) / sigma);
    }
    expect(r.every((v) => v < 10 && v > 0.1) && d.every((v) => Math.abs(v) < 10)).toBe(true);
    const [x2, g2, b2] = leaves();
    const xhat = w.div(w.sub(x2, w.mean(x2, [0, 2], true)), w.sqrt(w.add(w.variance(x2, [0, 2], { correction: 0, keepDims: true }), eps)));
    const renormed = w.add(w.mul(xhat, w.fromArray(r, [3, 1], { backend })), w.fromArray(d, [3, 1], { backend }));
    w.add(w.mul(renormed, w.reshape(g2, [3, 1])), w.reshape(b2, [3, 1])).backward(upstream);

    expectClose(await x1.grad!.toArray(), await x2.grad!.toArray(), 1e-5, 1e-4, 'input');
    expectClose(await g1.grad!.toArray(), await g2.grad!.toArray(), 1e-5, 1e-4, 'weight');
    expectClose(await b1.grad!.toArray(), await b2.grad!.toArray(), 1e-5, 1e-4, 'bias');
  });

  it('weight and bias that do not require grad get none, and the input still does', async () => {
    const backend = cpuBackend();
    const x = w.fromArray(randomData(12, 3), [2, 3, 2], { backend, requiresGrad: true });
    const weight = w.ones([3], { backend });
    w.sum(w.mul(w.groupNorm(x, 3, { weight }), w.fromArray(randomData(12, 4), [2, 3, 2], { backend }))).backward();
    expect(x.grad).not.toBeNull();
    expect(weight.grad).toBeNull();
  });
});

describe('normalization backward: WebGPU against the CPU', () => {
  const gpuCases: GradCase[] = [
    { name: 'batchNorm training [3, 5, 7, 9], affine', fn: (x, g, b) => w.batchNorm(x, { weight: g, bias: b, training: true }), inputs: [input([3, 5, 7, 9], 1), gamma([5], 2), beta([5], 3)] },
    { name: 'batchNorm training [2, 6, 33], fused ReLU', fn: (x, g, b) => w.batchNorm(x, { weight: g, bias: b, training: true, relu: true }), inputs: [input([2, 6, 33], 4), gamma([6], 5), beta([6], 6)] },
    { name: 'batchNorm training [7, 3]', fn: (x) => w.batchNorm(x, { training: true }), inputs: [input([7, 3], 7)] },
    { name: 'batchNorm training [1, 4, 5, 5], affine', fn: (x, g, b) => w.batchNorm(x, { weight: g, bias: b, training: true }), inputs: [input([1, 4, 5, 5], 8), gamma([4], 9), beta([4], 10)] },
    {
      name: 'batchNorm evaluation [3, 5, 7, 9], affine, fused ReLU',
      fn: (x, g, b) => w.batchNorm(x, { ...running(x, [0, 0.5, -0.5, 1, 0], [1, 2, 0.5, 1, 3]), weight: g, bias: b, relu: true }),
      inputs: [input([3, 5, 7, 9], 11), gamma([5], 12), beta([5], 13)],
    },
    { name: 'groupNorm(3) [3, 6, 7, 9], affine', fn: (x, g, b) => w.groupNorm(x, 3, { weight: g, bias: b }), inputs: [input([3, 6, 7, 9], 14), gamma([6], 15), beta([6], 16)] },
    { name: 'groupNorm(2) [1, 4, 5, 5], fused ReLU', fn: (x, g, b) => w.groupNorm(x, 2, { weight: g, bias: b, relu: true }), inputs: [input([1, 4, 5, 5], 17), gamma([4], 18), beta([4], 19)] },
    { name: 'instanceNorm [2, 6, 33], affine', fn: (x, g, b) => w.instanceNorm(x, { weight: g, bias: b }), inputs: [input([2, 6, 33], 20), gamma([6], 21), beta([6], 22)] },
    { name: 'layerNorm [3, 5, 7, 9] over [7, 9], affine', fn: (x, g, b) => w.layerNorm(x, [7, 9], { weight: g, bias: b }), inputs: [input([3, 5, 7, 9], 23), gamma([7, 9], 24), beta([7, 9], 25)] },
    { name: 'layerNorm [7, 3] over [3], fused ReLU', fn: (x, g, b) => w.layerNorm(x, [3], { weight: g, bias: b, relu: true }), inputs: [input([7, 3], 26), gamma([3], 27), beta([3], 28)] },
    {
      name: 'batchRenorm training [2, 6, 33]',
      fn: (x, g, b) => w.batchRenorm(x, { ...running(x, [0, 1, -1, 0.2, 3, 0], [1, 0.2, 3, 1, 1, 9]), weight: g, bias: b, training: true, rmax: 2, dmax: 1 }),
      inputs: [input([2, 6, 33], 29), gamma([6], 30), beta([6], 31)],
    },
    // Long groups: the backward sums split in two levels on the GPU.
    { name: 'batchNorm training [2, 2, 256, 256], affine (two-level sums)', fn: (x, g, b) => w.batchNorm(x, { weight: g, bias: b, training: true }), inputs: [input([2, 2, 256, 256], 32), gamma([2], 33), beta([2], 34)] },
    { name: 'layerNorm [3, 20000], affine (two-level group sums)', fn: (x, g, b) => w.layerNorm(x, [20_000], { weight: g, bias: b }), inputs: [input([3, 20_000], 35), gamma([20_000], 36), beta([20_000], 37)] },
    { name: 'groupNorm(2) [2, 4, 100, 100], affine (two-level sums)', fn: (x, g, b) => w.groupNorm(x, 2, { weight: g, bias: b }), inputs: [input([2, 4, 100, 100], 38), gamma([4], 39), beta([4], 40)] },
  ];
  for (const c of gpuCases) {
    it(`GPU backward matches the CPU: ${c.name}`, async () => {
      await compareBackward(c.fn, c.inputs, gpu, { atol: 1e-4, rtol: 1e-3 });
    });
  }
});
