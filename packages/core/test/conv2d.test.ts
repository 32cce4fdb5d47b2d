import { beforeAll, describe, expect, it, type TestContext } from 'vitest';
import * as w from '../src/index.ts';
import type { Conv2dOptions, ConvTranspose2dOptions, Tensor, WebGpuBackend } from '../src/index.ts';
import { gpuTraits } from '../src/backend/webgpu/traits.ts';
import { chooseKernel, conv2dWeightGradPrograms, convKernelChoice, convKernelsOn, imagesPerSplit, weightGradSplits, type Conv2dGeometry, type ConvKernel } from '../src/kernels/conv2d.ts';
import { compareBackward, gradcheck, type GradInput } from './gradcheck.ts';
import { cpuBackend, expectTensorsClose, gpuBackend, onBoth, randomData } from './helpers.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/**
 * Runs fn with every product on one kind of kernel (GEMM tiles, direct, subgroup register
 * blocks), then restores the choice by shape and device. Every kind runs on any adapter that
 * has it, whichever the adapter would choose; the subgroup kernels need subgroups.
 */
async function withKernel(ctx: TestContext, kernel: ConvKernel, fn: () => Promise<void>): Promise<void> {
  if (!convKernelsOn(gpu.traits).includes(kernel)) ctx.skip(`${gpu.description} has no subgroups`);
  convKernelChoice.force = kernel;
  try {
    await fn();
  } finally {
    convKernelChoice.force = null;
  }
}

const KERNELS: ConvKernel[] = ['gemm', 'direct', 'subgroup'];

interface Case {
  x: number[];
  weight: number[];
  options: Conv2dOptions & ConvTranspose2dOptions;
  bias?: boolean;
  /** The output shape PyTorch gives. */
  out: number[];
}

// Kernels 1x1, 3x3, 5x5, 2x3; strides 1/2/3; padding 0/1/2; dilation 1/2; groups 1/2/Cin;
// N = 1 and 3; H != W; odd sizes. Channel counts past 16 and 32 select the larger tiles, past
// 64 two row tiles; N·H·W past 64 several column tiles; Cin·kH·kW past 16 several depth steps.
const convCases: Case[] = [
  { x: [1, 1, 7, 7], weight: [1, 1, 1, 1], options: {}, out: [1, 1, 7, 7] },
  { x: [3, 4, 9, 13], weight: [5, 4, 3, 3], options: { padding: 1 }, bias: true, out: [3, 5, 9, 13] },
  { x: [1, 3, 13, 9], weight: [6, 3, 5, 5], options: { stride: 2, padding: 2 }, out: [1, 6, 7, 5] },
  { x: [3, 6, 9, 7], weight: [4, 3, 2, 3], options: { stride: [3, 1], padding: [0, 1], groups: 2 }, bias: true, out: [3, 4, 3, 7] },
  { x: [3, 8, 13, 13], weight: [8, 1, 3, 3], options: { padding: 2, dilation: 2, groups: 8 }, bias: true, out: [3, 8, 13, 13] },
  { x: [1, 7, 9, 7], weight: [33, 7, 3, 3], options: { stride: 3, dilation: [2, 1] }, out: [1, 33, 2, 2] },
  { x: [3, 5, 9, 9], weight: [70, 5, 1, 1], options: { stride: 2 }, bias: true, out: [3, 70, 5, 5] },
  { x: [1, 4, 13, 7], weight: [20, 2, 2, 3], options: { padding: [2, 1], groups: 2 }, out: [1, 20, 16, 7] },
  { x: [3, 2, 7, 9], weight: [4, 2, 5, 5], options: { padding: 2, stride: [1, 2], dilation: 2 }, out: [3, 4, 3, 3] },
  // 32-row tiles, and a depth (33·9) past the 256 indices decoded at a time.
  { x: [1, 33, 7, 9], weight: [24, 33, 3, 3], options: { padding: 1 }, bias: true, out: [1, 24, 7, 9] },
];

const transposeCases: Case[] = [
  { x: [1, 1, 7, 7], weight: [1, 1, 1, 1], options: {}, out: [1, 1, 7, 7] },
  { x: [3, 4, 5, 7], weight: [4, 3, 3, 3], options: { stride: 2, padding: 1, outputPadding: 1 }, bias: true, out: [3, 3, 10, 14] },
  { x: [1, 6, 4, 3], weight: [6, 2, 3, 2], options: { stride: [3, 2], padding: [0, 1], outputPadding: [2, 0], groups: 3 }, out: [1, 6, 14, 4] },
  // outputPadding past the stride, allowed because it is below the dilation.
  { x: [3, 3, 5, 5], weight: [3, 2, 3, 3], options: { padding: 1, outputPadding: 1, dilation: 2 }, bias: true, out: [3, 2, 8, 8] },
  { x: [3, 4, 6, 5], weight: [4, 1, 5, 3], options: { stride: [2, 1], dilation: [1, 2], groups: 4, padding: [2, 0] }, out: [3, 4, 11, 9] },
  { x: [1, 5, 9, 7], weight: [5, 40, 2, 3], options: { stride: 3 }, bias: true, out: [1, 40, 26, 21] },
  { x: [3, 5, 7, 6], weight: [5, 24, 3, 3], options: { stride: 2 }, out: [3, 24, 15, 13] },
];

/** The case's tensors on both backends; gradients requested when `grad`. */
function operands(c: Case, seed: number, grad = false): { gpu: [Tensor, Tensor, Tensor | null]; cpu: [Tensor, Tensor, Tensor | null] } {
  const [gx, cx] = onBoth(randomData(size(c.x), seed), c.x, gpu, cpuBackend(), grad);
  const [gw, cw] = onBoth(randomData(size(c.weight), seed + 1), c.weight, gpu, cpuBackend(), grad);
  const channels = c.out[1];
  const [gb, cb] = c.bias ? onBoth(randomData(channels, seed + 2), [channels], gpu, cpuBackend(), grad) : [null, null];
  return { gpu: [gx, gw, gb], cpu: [cx, cw, cb] };
}

const label = (c: Case): string => `input ${JSON.stringify(c.x)}, weight ${JSON.stringify(c.weight)}, ${JSON.stringify(c.options)}${c.bias ? ', bias' : ''}`;

describe('conv2d and convTranspose2d follow PyTorch on small integer examples', () => {
  // Values and expected outputs from torch.nn.functional (1.13); every product and sum is an
  // exact integer in float32, so both backends must match exactly.
  const x = Float32Array.from({ length: 2 * 4 * 5 * 4 }, (_, i) => (i % 7) - 3);
  const weight = Float32Array.from({ length: 4 * 2 * 3 * 2 }, (_, i) => (i % 5) - 2);
  const bias = [1, -1, 2, 0];
  const want = [
    -7, 1, -4, 7, -2, -2, -8, 3, 10, -3, 3, -10, 0, -4, -4, 3, 0, -3, -5, 8, 9, 1, 6, -5, -4, 11, 15, 12, 12, -2, -3, -6, -8, 0, -1, 7, -5, 12, 17, 17,
    12, -5, -8, -9, -8, -2, -6, 4,
  ];
  const xt = Float32Array.from({ length: 4 * 2 * 3 }, (_, i) => (i % 5) - 2);
  const wt = Float32Array.from({ length: 4 * 2 * 3 }, (_, i) => (i % 3) - 1);
  const wantT = [
    0.5, -1.5, 0.5, -1.5, 0.5, 0.5, -1.5, 0.5, -1.5, 0.5, 0.5, 3.5, 0.5, 3.5, 0.5, 0.5, 3.5, 0.5, 3.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, -0.5, -2.5, -0.5, 2.5,
    -0.5, -0.5, -2.5, -0.5, 2.5, -0.5, -0.5, -2.5, -0.5, -2.5, -0.5, -0.5, -2.5, -0.5, -2.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5,
  ];
  for (const backend of ['webgpu', 'cpu'] as const) {
    it(`conv2d, stride [2, 1], padding [1, 0], dilation [1, 2], groups 2, bias (${backend})`, async () => {
      const b = backend === 'cpu' ? cpuBackend() : gpu;
      const y = w.conv2d(w.fromArray(x, [2, 4, 5, 4], { backend: b }), w.fromArray(weight, [4, 2, 3, 2], { backend: b }), {
        bias: w.fromArray(bias, [4], { backend: b }),
        stride: [2, 1],
        padding: [1, 0],
        dilation: [1, 2],
        groups: 2,
      });
      expect([...y.shape]).toEqual([2, 4, 3, 2]);
      expect(Array.from(await y.toArray())).toEqual(want);
    });
    it(`convTranspose2d, stride 2, padding [0, 1], outputPadding [1, 0], groups 2, bias (${backend})`, async () => {
      const b = backend === 'cpu' ? cpuBackend() : gpu;
      const y = w.convTranspose2d(w.fromArray(xt, [1, 4, 2, 3], { backend: b }), w.fromArray(wt, [4, 1, 2, 3], { backend: b }), {
        bias: w.fromArray([0.5, -0.5], [2], { backend: b }),
        stride: 2,
        padding: [0, 1],
        outputPadding: [1, 0],
        groups: 2,
      });
      expect([...y.shape]).toEqual([1, 2, 5, 5]);
      expect(Array.from(await y.toArray())).toEqual(wantT);
    });
  }
});

describe.each(KERNELS)('conv2d: WebGPU (%s kernels) against the CPU reference', (kernel) => {
  for (const [i, c] of convCases.entries()) {
    it(label(c), (ctx) =>
      withKernel(ctx, kernel, async () => {
        const { gpu: [gx, gw, gb], cpu: [cx, cw, cb] } = operands(c, 10 * i);
        const want = w.conv2d(cx, cw, { ...c.options, bias: cb });
        expect([...want.shape]).toEqual(c.out);
        await expectTensorsClose(w.conv2d(gx, gw, { ...c.options, bias: gb }), want, 1e-4, 1e-4, 'conv2d');
      }));
  }
});

describe.each(KERNELS)('convTranspose2d: WebGPU (%s kernels) against the CPU reference', (kernel) => {
  for (const [i, c] of transposeCases.entries()) {
    it(label(c), (ctx) =>
      withKernel(ctx, kernel, async () => {
        const { gpu: [gx, gw, gb], cpu: [cx, cw, cb] } = operands(c, 10 * i + 5);
        const want = w.convTranspose2d(cx, cw, { ...c.options, bias: cb });
        expect([...want.shape]).toEqual(c.out);
        await expectTensorsClose(w.convTranspose2d(gx, gw, { ...c.options, bias: gb }), want, 1e-4, 1e-4, 'convTranspose2d');
      }));
  }
});

/** The inputs of a gradient check: x, weight and (when the case has one) bias, small values. */
function gradInputs(c: Case, seed: number): GradInput[] {
  const inputs: GradInput[] = [
    { shape: c.x, data: randomData(size(c.x), seed) },
    { shape: c.weight, data: randomData(size(c.weight), seed + 1) },
  ];
  if (c.bias) inputs.push({ shape: [c.out[1]], data: randomData(c.out[1], seed + 2) });
  return inputs;
}

const convOf = (options: Conv2dOptions) => (x: Tensor, weight: Tensor, bias?: Tensor) => w.conv2d(x, weight, { ...options, bias });
const transposeOf = (options: ConvTranspose2dOptions) => (x: Tensor, weight: Tensor, bias?: Tensor) => w.convTranspose2d(x, weight, { ...options, bias });

// Small enough for finite differences on every element.
const smallConv: Case[] = [
  { x: [2, 3, 5, 4], weight: [4, 3, 3, 3], options: { padding: 1 }, bias: true, out: [2, 4, 5, 4] },
  { x: [1, 4, 7, 5], weight: [2, 2, 2, 3], options: { stride: [2, 1], padding: [1, 2], dilation: [1, 2], groups: 2 }, bias: true, out: [1, 2, 4, 5] },
  { x: [2, 3, 5, 5], weight: [3, 1, 3, 3], options: { stride: 3, padding: 2, dilation: 2, groups: 3 }, out: [2, 3, 2, 2] },
];
const smallTranspose: Case[] = [
  { x: [2, 3, 3, 4], weight: [3, 2, 3, 3], options: { stride: 2, padding: 1, outputPadding: 1 }, bias: true, out: [2, 2, 6, 8] },
  { x: [1, 4, 3, 3], weight: [4, 1, 2, 3], options: { stride: [1, 3], padding: [0, 1], outputPadding: [1, 2], dilation: [2, 1], groups: 2 }, bias: true, out: [1, 2, 6, 9] },
];

describe('conv2d backward: finite differences on the CPU reference', () => {
  for (const [i, c] of smallConv.entries()) {
    it(label(c), async () => {
      await gradcheck(convOf(c.options), gradInputs(c, 100 + i));
    });
  }
});

describe('convTranspose2d backward: finite differences on the CPU reference', () => {
  for (const [i, c] of smallTranspose.entries()) {
    it(label(c), async () => {
      await gradcheck(transposeOf(c.options), gradInputs(c, 200 + i));
    });
  }
});

describe.each(KERNELS)('conv2d backward: WebGPU (%s kernels) against the CPU reference', (kernel) => {
  const cases = [...smallConv, convCases[1], convCases[3], convCases[4], convCases[5], convCases[6], convCases[8], convCases[9]];
  for (const [i, c] of cases.entries()) {
    it(label(c), (ctx) => withKernel(ctx, kernel, () => compareBackward(convOf(c.options), gradInputs(c, 300 + i), gpu, { atol: 2e-4, rtol: 2e-4 })));
  }

  it('splits a long batch sum for the weight gradient and still matches (input [4, 3, 33, 33])', (ctx) =>
    withKernel(ctx, kernel, async () => {
      const c: Case = { x: [4, 3, 33, 33], weight: [5, 3, 3, 3], options: { padding: 1 }, bias: true, out: [4, 5, 33, 33] };
      await compareBackward(convOf(c.options), gradInputs(c, 350), gpu, { atol: 5e-4, rtol: 2e-4 });
    }));
});

describe('weight-gradient splits', () => {
  const geometry = (batch: number, cin: number, cout: number, size: number, stride: number): Conv2dGeometry => {
    const out = Math.floor((size + 2 - 3) / stride) + 1;
    return { batch, inChannels: cin, inH: size, inW: size, outChannels: cout, outH: out, outW: out, kernelH: 3, kernelW: 3, strideH: stride, strideW: stride, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 1 };
  };
  it('spread a GPU over many workgroups and a software adapter over few, never leaving a block empty', () => {
    // Model S's second convolution: 16 -> 32 channels, stride 2, batch 32.
    const g = geometry(32, 16, 32, 28, 2);
    const hardware = weightGradSplits(g, gpuTraits(false, false));
    const software = weightGradSplits(g, gpuTraits(true, false));
    expect(hardware).toBeGreaterThanOrEqual(16);
    expect(software).toBeLessThanOrEqual(3);
    for (const batch of [1, 7, 31, 33, 64]) {
      for (const traits of [gpuTraits(false, false), gpuTraits(true, false), gpuTraits(true, true)]) {
        const splits = weightGradSplits(geometry(batch, 8, 16, 9, 1), traits);
        expect(splits).toBeGreaterThanOrEqual(1);
        expect(splits).toBeLessThanOrEqual(batch);
        // Every block holds images: the last starts inside the batch.
        expect((splits - 1) * imagesPerSplit(batch, splits)).toBeLessThan(batch);
      }
    }
  });
});

describe('conv2d backward', () => {
  it('gives only the gradients asked for (input without requiresGrad)', async () => {
    for (const backend of [gpu, cpuBackend()] as w.Backend[]) {
      const x = w.fromArray(randomData(2 * 3 * 5 * 5, 1), [2, 3, 5, 5], { backend });
      const weight = w.fromArray(randomData(4 * 3 * 3 * 3, 2), [4, 3, 3, 3], { backend, requiresGrad: true });
      w.sum(w.conv2d(x, weight)).backward();
      expect(x.grad).toBeNull();
      expect([...weight.grad!.shape]).toEqual([4, 3, 3, 3]);
    }
  });
});

describe.each(KERNELS)('convTranspose2d backward: WebGPU (%s kernels) against the CPU reference', (kernel) => {
  const cases = [...smallTranspose, transposeCases[1], transposeCases[2], transposeCases[3], transposeCases[4], transposeCases[5], transposeCases[6]];
  for (const [i, c] of cases.entries()) {
    it(label(c), (ctx) => withKernel(ctx, kernel, () => compareBackward(transposeOf(c.options), gradInputs(c, 400 + i), gpu, { atol: 2e-4, rtol: 2e-4 })));
  }
});

// The strided input gradient runs one part per sub-pixel phase (iy mod stride, ix mod stride),
// each over the taps that reach it: kernels not divisible by the stride (phases of 1 and 2
// taps), a dilation sharing a factor with the stride (phases with no tap at all, all zeros
// plus bias), 1 x 1 and 2 x 2 kernels at stride 2, outputPadding, groups, odd sizes.
const phaseTransposeCases: Case[] = [
  { x: [2, 3, 5, 7], weight: [3, 5, 3, 3], options: { stride: 2, padding: 1, outputPadding: 1 }, bias: true, out: [2, 5, 10, 14] },
  { x: [1, 4, 4, 5], weight: [4, 6, 3, 3], options: { stride: 3, padding: 2 }, out: [1, 6, 8, 11] },
  { x: [2, 2, 5, 4], weight: [2, 3, 3, 3], options: { stride: 2, dilation: 2, padding: 1 }, bias: true, out: [2, 3, 11, 9] },
  { x: [3, 4, 3, 5], weight: [4, 3, 2, 2], options: { stride: 2, groups: 2 }, out: [3, 6, 6, 10] },
  { x: [2, 5, 4, 3], weight: [5, 7, 1, 1], options: { stride: 2, outputPadding: 1 }, bias: true, out: [2, 7, 8, 6] },
  { x: [1, 4, 4, 3], weight: [4, 2, 2, 5], options: { stride: [3, 2], padding: [1, 2], dilation: [1, 2], groups: 2, outputPadding: [2, 1] }, out: [1, 4, 11, 10] },
  // 36 channels: two row tiles of the subgroup kernels; 3 x 4 phases of one image each.
  { x: [1, 6, 3, 4], weight: [6, 36, 3, 3], options: { stride: [3, 4], padding: [0, 2] }, out: [1, 36, 9, 11] },
];

// conv2d's backward at a stride: dx by phases, dw and the forward at the same shapes.
const phaseConvCases: Case[] = [
  { x: [2, 3, 9, 8], weight: [4, 3, 3, 3], options: { stride: 2, padding: 1 }, bias: true, out: [2, 4, 5, 4] },
  { x: [1, 4, 10, 7], weight: [6, 2, 2, 2], options: { stride: 2, groups: 2 }, out: [1, 6, 5, 3] },
  { x: [2, 3, 7, 7], weight: [5, 3, 1, 1], options: { stride: 2 }, bias: true, out: [2, 5, 4, 4] },
  { x: [1, 2, 11, 9], weight: [3, 2, 3, 3], options: { stride: 3, padding: 2, dilation: 2 }, out: [1, 3, 4, 3] },
  { x: [2, 2, 8, 9], weight: [3, 2, 3, 3], options: { stride: 2 }, out: [2, 3, 3, 4] },
];

describe.each(KERNELS)('strided input gradients by phase: WebGPU (%s kernels) against the CPU reference', (kernel) => {
  for (const [i, c] of phaseTransposeCases.entries()) {
    it(`convTranspose2d ${label(c)}`, (ctx) =>
      withKernel(ctx, kernel, async () => {
        const { gpu: [gx, gw, gb], cpu: [cx, cw, cb] } = operands(c, 500 + 10 * i);
        const want = w.convTranspose2d(cx, cw, { ...c.options, bias: cb });
        expect([...want.shape]).toEqual(c.out);
        await expectTensorsClose(w.convTranspose2d(gx, gw, { ...c.options, bias: gb }), want, 1e-4, 1e-4, 'convTranspose2d');
      }));
  }
  for (const [i, c] of phaseConvCases.entries()) {
    it(`conv2d backward ${label(c)}`, (ctx) =>
      withKernel(ctx, kernel, async () => {
        expect([...w.conv2d(w.zeros(c.x, { backend: cpuBackend() }), w.zeros(c.weight, { backend: cpuBackend() }), c.options).shape]).toEqual(c.out);
        await compareBackward(convOf(c.options), gradInputs(c, 600 + 10 * i), gpu, { atol: 2e-4, rtol: 2e-4 });
      }));
  }
});

describe('conv2dWeightGrad: partial sums over blocks of images', () => {
  const attrs = { stride: [2, 1], padding: [1, 1], dilation: [1, 1], groups: 2, kernel: [3, 2] };
  // The convolution whose weight gradient is taken: x [batch, 4, 7, 6], dy [batch, 6, 4, 7].
  const geometryOf = (batch: number): Conv2dGeometry => ({
    batch, inChannels: 4, inH: 7, inW: 6, outChannels: 6, outH: 4, outW: 7, kernelH: 3, kernelW: 2,
    strideH: 2, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 2,
  });
  for (const [batch, splits, kernel] of [[3, 3, 'gemm'], [5, 2, 'gemm'], [5, 3, 'direct'], [5, 2, 'direct'], [3, 3, 'subgroup'], [5, 2, 'subgroup']] as const) {
    it(`batch ${batch} in ${splits} blocks (${kernel} kernels): the blocks summed on the GPU match the whole gradient`, (ctx) => withKernel(ctx, kernel, async () => {
      const xShape = [batch, 4, 7, 6];
      const dyShape = [batch, 6, 4, 7];
      const [gx, cx] = onBoth(randomData(size(xShape), batch), xShape, gpu);
      const [gdy, cdy] = onBoth(randomData(size(dyShape), batch + 1), dyShape, gpu);
      const whole = w.runOp('conv2dWeightGrad', [cx, cdy], attrs);
      const dw = w.zeros([6, 2, 3, 2], { backend: gpu });
      const before = gpu.counters.dispatches;
      gpu.execute(
        {
          name: `conv2dWeightGrad in ${splits} blocks`,
          cpu: () => {
            throw new Error('GPU only');
          },
          gpu: ([x, dy], out, _attrs, c) => conv2dWeightGradPrograms(geometryOf(batch), x, dy, out, c, splits),
        },
        [gx, gdy].map((t) => ({ shape: t.shape, storage: t.storageFor('test') })),
        { shape: dw.shape, storage: dw.storageFor('test') },
        {},
      );
      // The blocks' partial sums, then their sum.
      expect(gpu.counters.dispatches - before).toBe(2);
      await expectTensorsClose(dw, whole, 1e-4, 1e-4, 'sum of partials');
    }));
  }
});

describe('kernel choice', () => {
  const hardware = gpuTraits(false, true);
  const software = gpuTraits(true, true);

  it('on a GPU: GEMM tiles for full products, direct kernels where a tile would be mostly padding', () => {
    expect(hardware.convTiling).toBe('workgroup');
    // [32, 16, 28, 28] conv 3x3 -> 32: forward, input gradient, weight gradient.
    expect(chooseKernel({ rows: 32, cols: 32 * 28 * 28, depth: 16 * 9 }, hardware)).toBe('gemm');
    expect(chooseKernel({ rows: 16, cols: 32 * 28 * 28, depth: 32 * 9 }, hardware)).toBe('gemm');
    expect(chooseKernel({ rows: 32, cols: 16 * 9, depth: 32 * 28 * 28 }, hardware)).toBe('gemm');
    // Depthwise (one channel per group), a single input channel, a tiny weight.
    expect(chooseKernel({ rows: 1, cols: 32 * 28 * 28, depth: 9 }, hardware)).toBe('direct');
    expect(chooseKernel({ rows: 16, cols: 32 * 28 * 28, depth: 9 }, hardware)).toBe('direct');
    expect(chooseKernel({ rows: 16, cols: 9, depth: 32 * 28 * 28 }, hardware)).toBe('direct');
  });

  it('on a software adapter with subgroups: subgroup register blocks, but for single-row products', () => {
    expect(software.convTiling).toBe('subgroup');
    expect(chooseKernel({ rows: 32, cols: 32 * 28 * 28, depth: 16 * 9 }, software)).toBe('subgroup');
    expect(chooseKernel({ rows: 16, cols: 32 * 28 * 28, depth: 9 }, software)).toBe('subgroup');
    expect(chooseKernel({ rows: 16, cols: 9, depth: 32 * 28 * 28 }, software)).toBe('subgroup');
    expect(chooseKernel({ rows: 1, cols: 32 * 28 * 28, depth: 9 }, software)).toBe('direct');
    // Without subgroups (turned off, or absent) the software adapter tiles in workgroup memory.
    expect(gpuTraits(true, false).convTiling).toBe('workgroup');
    expect(chooseKernel({ rows: 32, cols: 32 * 28 * 28, depth: 16 * 9 }, gpuTraits(true, false))).toBe('gemm');
  });

  it('a forced kind the device cannot run is an error', () => {
    convKernelChoice.force = 'subgroup';
    try {
      expect(() => chooseKernel({ rows: 32, cols: 64, depth: 9 }, gpuTraits(false, false))).toThrow('conv2d: the subgroup kernels need a device with subgroups turned on');
    } finally {
      convKernelChoice.force = null;
    }
  });
});

describe('conv2d and convTranspose2d: bad input', () => {
  const t = (shape: number[]) => w.zeros(shape, { backend: cpuBackend() });
  const cases: [string, () => unknown, string][] = [
    ['channel mismatch', () => w.conv2d(t([2, 3, 8, 8]), t([8, 4, 3, 3])), 'conv2d: expected input [2, 3, 8, 8] to have 4 channels (weight [8, 4, 3, 3], groups 1), but got 3 channels'],
    ['channel mismatch with groups', () => w.conv2d(t([2, 6, 8, 8]), t([8, 2, 3, 3]), { groups: 2 }), 'conv2d: expected input [2, 6, 8, 8] to have 4 channels (weight [8, 2, 3, 3], groups 2), but got 6 channels'],
    ['groups not dividing the output channels', () => w.conv2d(t([1, 4, 8, 8]), t([3, 2, 3, 3]), { groups: 2 }), 'conv2d: groups 2 must divide the output channels, but weight [3, 2, 3, 3] has 3 (dimension 0)'],
    ['groups not dividing the input channels', () => w.conv2d(t([1, 3, 8, 8]), t([4, 1, 3, 3]), { groups: 2 }), 'conv2d: groups 2 must divide the input channels, but input [1, 3, 8, 8] has 3'],
    [
      'output size below one',
      () => w.conv2d(t([1, 1, 2, 8]), t([1, 1, 3, 3]), { dilation: [1, 2] }),
      'conv2d: computed output size [0, 4] is too small for input [1, 1, 2, 8] with kernel [3, 3], stride [1, 1], padding [0, 0], dilation [1, 2]',
    ],
    ['3-D input', () => w.conv2d(t([3, 8, 8]), t([4, 3, 3, 3])), 'conv2d: expected a 4-D input [N, C, H, W], got input of shape [3, 8, 8]'],
    ['2-D weight', () => w.conv2d(t([1, 3, 8, 8]), t([4, 27])), 'conv2d: expected a 4-D weight, got weight of shape [4, 27]'],
    ['bias of the wrong size', () => w.conv2d(t([1, 3, 8, 8]), t([4, 3, 3, 3]), { bias: t([3]) }), 'conv2d: expected bias of shape [4] (one per output channel), got bias of shape [3]'],
    ['zero stride', () => w.conv2d(t([1, 3, 8, 8]), t([4, 3, 3, 3]), { stride: 0 }), 'conv2d: stride must be a positive integer or a pair [height, width] of them, got 0'],
    ['negative padding', () => w.conv2d(t([1, 3, 8, 8]), t([4, 3, 3, 3]), { padding: [1, -1] }), 'conv2d: padding must be a non-negative integer or a pair [height, width] of them, got [1,-1]'],
    ['fractional groups', () => w.conv2d(t([1, 3, 8, 8]), t([4, 3, 3, 3]), { groups: 1.5 }), 'conv2d: groups must be a positive integer, got 1.5'],
    [
      'transposed: channel mismatch',
      () => w.convTranspose2d(t([2, 3, 8, 8]), t([4, 8, 3, 3])),
      'convTranspose2d: expected input [2, 3, 8, 8] to have 4 channels (weight [4, 8, 3, 3], groups 1), but got 3 channels',
    ],
    ['transposed: groups not dividing the channels', () => w.convTranspose2d(t([2, 3, 8, 8]), t([3, 2, 3, 3]), { groups: 2 }), 'convTranspose2d: groups 2 must divide the input channels, but weight [3, 2, 3, 3] has 3 (dimension 0)'],
    [
      'transposed: outputPadding too large',
      () => w.convTranspose2d(t([1, 4, 5, 5]), t([4, 2, 3, 3]), { stride: 2, outputPadding: [1, 2] }),
      'convTranspose2d: outputPadding [1, 2] must be smaller than either stride [2, 2] or dilation [1, 1] in each dimension',
    ],
    [
      'transposed: output size below one',
      () => w.convTranspose2d(t([1, 4, 2, 5]), t([4, 2, 1, 3]), { padding: 1 }),
      'convTranspose2d: computed output size [0, 5] is too small for input [1, 4, 2, 5] with kernel [1, 3], stride [1, 1], padding [1, 1], outputPadding [0, 0], dilation [1, 1]',
    ],
    ['transposed: bias of the wrong size', () => w.convTranspose2d(t([1, 4, 5, 5]), t([4, 2, 3, 3]), { groups: 2, bias: t([2]) }), 'convTranspose2d: expected bias of shape [4] (one per output channel), got bias of shape [2]'],
  ];
  for (const [what, run, message] of cases) {
    it(what, () => {
      expect(run).toThrow(message);
    });
  }

  it('the GPU backend rejects the same inputs before recording anything', () => {
    const x = w.zeros([2, 3, 8, 8], { backend: gpu });
    const weight = w.zeros([8, 4, 3, 3], { backend: gpu });
    const before = gpu.counters.dispatches;
    expect(() => w.conv2d(x, weight)).toThrow('conv2d: expected input [2, 3, 8, 8] to have 4 channels');
    expect(gpu.counters.dispatches).toBe(before);
  });
});
