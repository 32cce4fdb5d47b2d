import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { Tensor, WebGpuBackend } from '../src/index.ts';
import { Random } from '../src/util/random.ts';
import { compareBackward, gradcheck } from './gradcheck.ts';
import { cpuBackend, expectClose, expectTensorsClose, gpuBackend, onBoth, randomData } from './helpers.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

const size = (shape: number[]): number => shape.reduce((p, d) => p * d, 1);

/** Seeded integers in [0, levels), as floats: windows full of ties. */
function ties(n: number, seed: number, levels = 3): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: n }, () => Math.min(levels - 1, Math.floor(rng.uniform() * levels)));
}

/** A seeded shuffle of 0.1·(0..n−1): distinct values 0.1 apart, so a ±0.01 step never changes an argmax. */
function distinct(n: number, seed: number): Float32Array {
  const rng = new Random(seed);
  const values = Array.from({ length: n }, (_, i) => 0.1 * i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [values[i], values[j]] = [values[j], values[i]];
  }
  return Float32Array.from(values);
}

/** Every (stride, padding) with kernel k that PyTorch accepts for an h × w input. */
function windows(h: number, wd: number, k: number): { stride: number; padding: number }[] {
  const out: { stride: number; padding: number }[] = [];
  for (const stride of [1, 2, 3]) {
    for (const padding of [0, 1]) {
      if (padding > k / 2 || h + 2 * padding < k || wd + 2 * padding < k) continue;
      out.push({ stride, padding });
    }
  }
  return out;
}

const planes: [number, number][] = [
  [1, 1],
  [5, 7],
  [7, 5],
  [13, 13],
  [1, 13],
  [13, 5],
];

describe('maxPool2d and avgPool2d: WebGPU against the CPU reference', () => {
  for (const [h, wd] of planes) {
    for (const k of [1, 2, 3]) {
      const configs = windows(h, wd, k);
      if (configs.length === 0) continue;
      it(`input [2, 3, ${h}, ${wd}], kernel ${k}: strides 1–3, padding 0 and 1`, async () => {
        const shape = [2, 3, h, wd];
        const [gx, cx] = onBoth(randomData(size(shape), h * 100 + wd), shape, gpu);
        const [gt, ct] = onBoth(ties(size(shape), h * 10 + wd), shape, gpu);
        for (const { stride, padding } of configs) {
          const opts = { kernelSize: k, stride, padding };
          const label = `stride ${stride}, padding ${padding}`;
          await expectTensorsClose(w.maxPool2d(gx, opts), w.maxPool2d(cx, opts), 0, 0, `maxPool2d ${label}`);
          await expectTensorsClose(w.maxPool2d(gt, opts), w.maxPool2d(ct, opts), 0, 0, `maxPool2d with ties ${label}`);
          for (const countIncludePad of [true, false]) {
            const avg = { ...opts, countIncludePad };
            await expectTensorsClose(w.avgPool2d(gx, avg), w.avgPool2d(cx, avg), 1e-6, 1e-5, `avgPool2d ${label}, countIncludePad ${countIncludePad}`);
          }
        }
      });
    }
  }

  it('rectangular windows, strides and padding, and a wide input [2, 4, 33, 257]', async () => {
    const shape = [2, 4, 33, 257];
    const [gx, cx] = onBoth(randomData(size(shape), 3), shape, gpu);
    for (const opts of [
      { kernelSize: [3, 2] as [number, number], stride: [2, 1] as [number, number], padding: [1, 0] as [number, number] },
      { kernelSize: [2, 5] as [number, number], stride: [3, 4] as [number, number], padding: [1, 2] as [number, number] },
      { kernelSize: 2 },
    ]) {
      const label = JSON.stringify(opts);
      await expectTensorsClose(w.maxPool2d(gx, opts), w.maxPool2d(cx, opts), 0, 0, `maxPool2d ${label}`);
      await expectTensorsClose(w.avgPool2d(gx, opts), w.avgPool2d(cx, opts), 1e-6, 1e-5, `avgPool2d ${label}`);
      await expectTensorsClose(w.avgPool2d(gx, { ...opts, countIncludePad: false }), w.avgPool2d(cx, { ...opts, countIncludePad: false }), 1e-6, 1e-5, `avgPool2d ${label}`);
    }
  });

  it('an empty batch gives an empty output', async () => {
    const y = w.maxPool2d(w.zeros([0, 3, 5, 5], { backend: gpu }), { kernelSize: 2 });
    expect([...y.shape]).toEqual([0, 3, 2, 2]);
    expect((await y.toArray()).length).toBe(0);
  });

  it('the forward is one dispatch', () => {
    const x = w.randn([2, 3, 7, 7], { backend: gpu });
    const before = gpu.counters.dispatches;
    w.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 });
    w.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 });
    expect(gpu.counters.dispatches - before).toBe(2);
  });
});

describe("follows PyTorch's results (values from torch 1.13)", () => {
  const onEach = async (fn: (backend: w.Backend) => Promise<void>): Promise<void> => {
    for (const backend of [cpuBackend(), gpu]) await fn(backend);
  };

  it('max pooling: ties go to the first maximum in row-major window order', async () => {
    await onEach(async (backend) => {
      const x = w.ones([1, 1, 3, 3], { backend, requiresGrad: true });
      w.maxPool2d(x, { kernelSize: 2, stride: 1 }).backward(w.ones([1, 1, 2, 2], { backend }));
      expect(Array.from(await x.grad!.toArray())).toEqual([1, 1, 0, 1, 1, 0, 0, 0, 0]);
    });
  });

  it('max pooling: NaN wins, and the gradient goes to the last NaN of the window', async () => {
    await onEach(async (backend) => {
      const x = w.fromArray([1, NaN, 3, NaN, 2, 1, 1, 1, 1], [1, 1, 3, 3], { backend, requiresGrad: true });
      const y = w.maxPool2d(x, { kernelSize: 2, stride: 1 });
      expectClose(await y.toArray(), [NaN, NaN, NaN, 2], 0, 0, `${backend.kind} output`);
      y.backward(w.ones([1, 1, 2, 2], { backend }));
      expect(Array.from(await x.grad!.toArray())).toEqual([0, 1, 0, 2, 1, 0, 0, 0, 0]);
    });
  });

  it('max pooling: padding is −inf, and a window of −inf keeps its first position in the input', async () => {
    await onEach(async (backend) => {
      const x = w.fromArray(new Float32Array(9).fill(-Infinity), [1, 1, 3, 3], { backend, requiresGrad: true });
      const y = w.maxPool2d(x, { kernelSize: 2, stride: 1, padding: 1 });
      expect(Array.from(await y.toArray())).toEqual(new Array(16).fill(-Infinity));
      y.backward(w.ones([1, 1, 4, 4], { backend }));
      expect(Array.from(await x.grad!.toArray())).toEqual([4, 2, 2, 2, 1, 1, 2, 1, 1]);
      const neg = w.fromArray([-5, -6, -7, -8], [1, 1, 2, 2], { backend });
      expect(Array.from(await w.maxPool2d(neg, { kernelSize: 2, stride: 1, padding: 1 }).toArray())).toEqual([-5, -5, -6, -5, -5, -6, -7, -7, -8]);
    });
  });

  it('average pooling with and without the padding in the divisor', async () => {
    await onEach(async (backend) => {
      const x = w.fromArray(Float32Array.from({ length: 9 }, (_, i) => i), [1, 1, 3, 3], { backend });
      expectClose(
        await w.avgPool2d(x, { kernelSize: 2, stride: 1, padding: 1, countIncludePad: false }).toArray(),
        [0, 0.5, 1.5, 2, 1.5, 2, 3, 3.5, 4.5, 5, 6, 6.5, 6, 6.5, 7.5, 8],
        1e-6,
      );
      expectClose(
        await w.avgPool2d(x, { kernelSize: 2, stride: 1, padding: 1 }).toArray(),
        [0, 0.25, 0.75, 0.5, 0.75, 2, 3, 1.75, 2.25, 5, 6, 3.25, 1.5, 3.25, 3.75, 2],
        1e-6,
      );
    });
  });
});

describe('pooling backward', () => {
  const cases: { shape: number[]; opts: w.MaxPool2dOptions }[] = [
    { shape: [1, 1, 1, 1], opts: { kernelSize: 1 } },
    { shape: [2, 2, 5, 7], opts: { kernelSize: 2 } },
    { shape: [2, 2, 5, 7], opts: { kernelSize: 3, stride: 1, padding: 1 } },
    { shape: [1, 3, 7, 5], opts: { kernelSize: 3, stride: 2, padding: 1 } },
    { shape: [1, 2, 13, 13], opts: { kernelSize: 3, stride: 3 } },
    { shape: [2, 1, 7, 13], opts: { kernelSize: [3, 2], stride: [1, 3], padding: [1, 0] } },
  ];

  for (const { shape, opts } of cases) {
    const label = `input ${JSON.stringify(shape)}, ${JSON.stringify(opts)}`;
    it(`gradcheck maxPool2d on the CPU (distinct values), ${label}`, async () => {
      await gradcheck((x) => w.maxPool2d(x, opts), [{ shape, data: distinct(size(shape), 1) }]);
    });
    for (const countIncludePad of [true, false]) {
      it(`gradcheck avgPool2d on the CPU, countIncludePad ${countIncludePad}, ${label}`, async () => {
        await gradcheck((x) => w.avgPool2d(x, { ...opts, countIncludePad }), [{ shape, data: randomData(size(shape), 2) }]);
      });
    }
    it(`GPU backward matches the CPU, ${label}`, async () => {
      await compareBackward((x) => w.maxPool2d(x, opts), [{ shape, data: randomData(size(shape), 3) }], gpu, { atol: 1e-6, rtol: 1e-5 });
      await compareBackward((x) => w.maxPool2d(x, opts), [{ shape, data: ties(size(shape), 4) }], gpu, { atol: 1e-6, rtol: 1e-5 });
      for (const countIncludePad of [true, false]) {
        await compareBackward((x) => w.avgPool2d(x, { ...opts, countIncludePad }), [{ shape, data: randomData(size(shape), 5) }], gpu, { atol: 1e-6, rtol: 1e-5 });
      }
    });
  }

  it('the gradient of a tensor pooled twice accumulates', async () => {
    for (const backend of [cpuBackend(), gpu]) {
      const x = w.fromArray([1, 2, 3, 4], [1, 1, 2, 2], { backend, requiresGrad: true });
      const y = w.add(w.maxPool2d(x, { kernelSize: 2 }), w.avgPool2d(x, { kernelSize: 2 }));
      y.backward(w.ones([1, 1, 1, 1], { backend }));
      expect(Array.from(await x.grad!.toArray())).toEqual([0.25, 0.25, 0.25, 1.25]);
    }
  });

  it("average pooling's backward is differentiable (its gradient is the forward)", async () => {
    const inputShape = [2, 1, 7, 5];
    const attrs = { kernelSize: [3, 2], stride: [2, 1], padding: [1, 1], countIncludePad: false, inputShape };
    const spread = (g: Tensor): Tensor => w.runOp('avgPool2dBackward', [g], attrs);
    await gradcheck(spread, [{ shape: [2, 1, 4, 6], data: randomData(48, 6) }]);
    await compareBackward(spread, [{ shape: [2, 1, 4, 6], data: randomData(48, 7) }], gpu, { atol: 1e-6, rtol: 1e-5 });
  });

  it("max pooling's backward names itself when differentiated again", () => {
    const x = w.randn([1, 1, 4, 4], { backend: cpuBackend(), requiresGrad: true });
    const g = w.randn([1, 1, 2, 2], { backend: cpuBackend(), requiresGrad: true });
    const argmax = w.runOp('maxPool2dArgmax', [x], { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] });
    expect(argmax.requiresGrad).toBe(false);
    const dx = w.runOp('maxPool2dBackward', [g, argmax], { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0], inputShape: [1, 1, 4, 4] });
    expect(() => w.sum(dx).backward()).toThrow('maxPool2dBackward: this op has no backward rule');
  });
});

describe('globalAvgPool2d', () => {
  for (const shape of [
    [1, 1, 1, 1],
    [2, 3, 5, 7],
    [3, 5, 13, 1],
    [2, 4, 33, 257],
  ]) {
    it(`input ${JSON.stringify(shape)}: WebGPU against the CPU reference, and backward`, async () => {
      const data = randomData(size(shape), 8);
      const [gx, cx] = onBoth(data, shape, gpu);
      const want = w.globalAvgPool2d(cx);
      expect([...want.shape]).toEqual([shape[0], shape[1], 1, 1]);
      await expectTensorsClose(w.globalAvgPool2d(gx), want, 1e-6, 1e-5, 'globalAvgPool2d');
      // The mean of plane 0, by hand.
      const plane = shape[2] * shape[3];
      expectClose([(await want.toArray())[0]], [data.slice(0, plane).reduce((s, v) => s + v, 0) / plane], 1e-6, 1e-5);
      await compareBackward((x) => w.globalAvgPool2d(x), [{ shape, data }], gpu, { atol: 1e-7, rtol: 1e-5 });
    });
  }

  it('gradcheck on the CPU', async () => {
    await gradcheck((x) => w.globalAvgPool2d(x), [{ shape: [2, 3, 5, 7], data: randomData(210, 9) }]);
  });

  it('matches avgPool2d with the whole plane as its window', async () => {
    const x = w.randn([2, 3, 5, 7], { backend: gpu });
    await expectTensorsClose(w.globalAvgPool2d(x), w.avgPool2d(x, { kernelSize: [5, 7] }), 1e-6, 1e-5);
  });
});

describe('pooling errors', () => {
  const x = (shape: number[]): Tensor => w.zeros(shape, { backend: gpu });

  it('names the op and the shape of an input that is not 4-D', () => {
    expect(() => w.maxPool2d(x([2, 2]), { kernelSize: 2 })).toThrow('maxPool2d: expected a 4-D input [N, C, H, W], got shape [2, 2]');
    expect(() => w.avgPool2d(x([1, 4, 4]), { kernelSize: 2 })).toThrow('avgPool2d: expected a 4-D input [N, C, H, W], got shape [1, 4, 4]');
    expect(() => w.globalAvgPool2d(x([1, 2, 3, 4, 5]))).toThrow('globalAvgPool2d: expected a 4-D input [N, C, H, W], got shape [1, 2, 3, 4, 5]');
  });

  it('rejects padding beyond half the kernel, as PyTorch', () => {
    expect(() => w.maxPool2d(x([1, 1, 5, 5]), { kernelSize: 3, stride: 1, padding: 2 })).toThrow(
      'maxPool2d: pad should be at most half of effective kernel size, but got padding [2, 2] and kernelSize [3, 3]',
    );
    expect(() => w.avgPool2d(x([1, 1, 5, 5]), { kernelSize: [3, 4], padding: [1, 3] })).toThrow(
      'avgPool2d: pad should be at most half of kernel size, but got padding [1, 3] and kernelSize [3, 4]',
    );
  });

  it('rejects a kernel larger than the padded input (output size below one)', () => {
    expect(() => w.maxPool2d(x([1, 2, 2, 2]), { kernelSize: 3 })).toThrow(
      'maxPool2d: Given input size: (2x2x2). Calculated output size: (2x0x0). Output size is too small (input shape [1, 2, 2, 2], kernelSize [3, 3], stride [3, 3], padding [0, 0])',
    );
    expect(() => w.avgPool2d(x([1, 1, 7, 1]), { kernelSize: 2, stride: 1 })).toThrow('avgPool2d: Given input size: (1x7x1). Calculated output size: (1x6x0). Output size is too small');
  });

  it('rejects non-positive kernels and strides, negative padding and non-integer sizes', () => {
    expect(() => w.maxPool2d(x([1, 1, 4, 4]), { kernelSize: [0, 2] })).toThrow('maxPool2d: kernel size should be greater than zero, but got kH: 0 kW: 2');
    expect(() => w.avgPool2d(x([1, 1, 4, 4]), { kernelSize: 2, stride: [1, 0] })).toThrow('avgPool2d: stride should be greater than zero, but got dH: 1 dW: 0');
    expect(() => w.maxPool2d(x([1, 1, 4, 4]), { kernelSize: 2, padding: -1 })).toThrow('maxPool2d: pad must be non-negative, but got padding [-1, -1]');
    expect(() => w.maxPool2d(x([1, 1, 4, 4]), { kernelSize: 2.5 })).toThrow('maxPool2d: kernelSize must be an integer or a pair of integers [height, width], got 2.5');
    expect(() => w.avgPool2d(x([1, 1, 4, 4]), { kernelSize: [2, 2, 2] as unknown as [number, number] })).toThrow('avgPool2d: kernelSize must be an integer or a pair of integers');
    expect(() => w.avgPool2d(x([1, 1, 4, 4]), { kernelSize: 2, countIncludePad: 1 as unknown as boolean })).toThrow('avgPool2d: countIncludePad must be a boolean, got 1');
  });

  it('backward ops name a gradient of the wrong shape', () => {
    const attrs = { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0], countIncludePad: true, inputShape: [1, 1, 4, 4] };
    expect(() => w.runOp('avgPool2dBackward', [x([1, 1, 3, 2])], attrs)).toThrow(
      'avgPool2dBackward: grad must have the pooled shape [1, 1, 2, 2] of input [1, 1, 4, 4], got [1, 1, 3, 2]',
    );
    expect(() => w.runOp('maxPool2dBackward', [x([1, 1, 2, 2]), x([1, 1, 2, 1])], attrs)).toThrow(
      'maxPool2dBackward: argmax must have the pooled shape [1, 1, 2, 2] of input [1, 1, 4, 4], got [1, 1, 2, 1]',
    );
  });
});
