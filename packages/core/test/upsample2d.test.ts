import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { Tensor, WebGpuBackend } from '../src/index.ts';
import { compareBackward, gradcheck } from './gradcheck.ts';
import { cpuBackend, expectClose, expectTensorsClose, gpuBackend, onBoth, randomData } from './helpers.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

const size = (shape: number[]): number => shape.reduce((p, d) => p * d, 1);

const shapes: number[][] = [
  [1, 1, 1, 1],
  [2, 3, 5, 7],
  [1, 2, 7, 5],
  [2, 1, 13, 13],
  [1, 3, 1, 13],
];

type Scale = number | [number, number];
// Bilinear source positions are float32 on the GPU (as in PyTorch): ratio · o is off by up to an
// ulp of the position, so outputs far along a large axis differ from the float64 reference by ~1e-6.
const BILINEAR_ATOL = 2e-5;
const nearestScales: Scale[] = [1, 2, 3, [2, 3], [1, 4]];
// Upsampling, downsampling, non-integer and equal-size scales (1.2 keeps a 1-, 3- or 4-wide axis).
const bilinearScales: Scale[] = [1, 2, 3, 1.5, [2, 0.6], 0.5, 1.2];

/** Whether a bilinear scale gives every axis at least one output. */
const fits = (shape: number[], scale: Scale): boolean => {
  const [sh, sw] = typeof scale === 'number' ? [scale, scale] : scale;
  return Math.floor(shape[2] * sh) >= 1 && Math.floor(shape[3] * sw) >= 1;
};

describe('upsampleNearest2d and upsampleBilinear2d: WebGPU against the CPU reference', () => {
  for (const shape of shapes) {
    it(`input ${JSON.stringify(shape)}: nearest scales ${JSON.stringify(nearestScales)}`, async () => {
      const [gx, cx] = onBoth(randomData(size(shape), shape[2] * 10 + shape[3]), shape, gpu);
      for (const scale of nearestScales) {
        const want = w.upsampleNearest2d(cx, scale);
        const [sh, sw] = typeof scale === 'number' ? [scale, scale] : scale;
        expect([...want.shape]).toEqual([shape[0], shape[1], shape[2] * sh, shape[3] * sw]);
        await expectTensorsClose(w.upsampleNearest2d(gx, scale), want, 0, 0, `nearest, scale ${JSON.stringify(scale)}`);
      }
    });
    it(`input ${JSON.stringify(shape)}: bilinear scales ${JSON.stringify(bilinearScales)}, both corner modes`, async () => {
      const [gx, cx] = onBoth(randomData(size(shape), shape[2] * 10 + shape[3] + 1), shape, gpu);
      for (const scale of bilinearScales.filter((s) => fits(shape, s))) {
        for (const alignCorners of [false, true]) {
          const want = w.upsampleBilinear2d(cx, { scale, alignCorners });
          await expectTensorsClose(w.upsampleBilinear2d(gx, { scale, alignCorners }), want, BILINEAR_ATOL, 1e-5, `bilinear, scale ${JSON.stringify(scale)}, alignCorners ${alignCorners}`);
        }
      }
    });
  }

  it('a larger input [2, 4, 33, 257]', async () => {
    const shape = [2, 4, 33, 257];
    const [gx, cx] = onBoth(randomData(size(shape), 4), shape, gpu);
    await expectTensorsClose(w.upsampleNearest2d(gx), w.upsampleNearest2d(cx), 0, 0, 'nearest');
    await expectTensorsClose(w.upsampleBilinear2d(gx), w.upsampleBilinear2d(cx), BILINEAR_ATOL, 1e-5, 'bilinear');
    await expectTensorsClose(w.upsampleBilinear2d(gx, { alignCorners: true }), w.upsampleBilinear2d(cx, { alignCorners: true }), BILINEAR_ATOL, 1e-5, 'bilinear, aligned corners');
  });
});

describe("follows PyTorch's results (values from torch 1.13)", () => {
  const onEach = async (fn: (backend: w.Backend) => Promise<void>): Promise<void> => {
    for (const backend of [cpuBackend(), gpu]) await fn(backend);
  };
  const ramp = (n: number, shape: number[], backend: w.Backend, requiresGrad = false): Tensor =>
    w.fromArray(Float32Array.from({ length: n }, (_, i) => i), shape, { backend, requiresGrad });

  it('nearest copies each value into a block', async () => {
    await onEach(async (backend) => {
      const y = w.upsampleNearest2d(ramp(4, [1, 1, 2, 2], backend), [2, 3]);
      expect(Array.from(await y.toArray())).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 2, 2, 2, 3, 3, 3]);
    });
  });

  it('bilinear with half-pixel centres: forward and gradient', async () => {
    await onEach(async (backend) => {
      const x = ramp(6, [1, 1, 2, 3], backend, true);
      const y = w.upsampleBilinear2d(x);
      expectClose(await y.toArray(), [0, 0.25, 0.75, 1.25, 1.75, 2, 0.75, 1, 1.5, 2, 2.5, 2.75, 2.25, 2.5, 3, 3.5, 4, 4.25, 3, 3.25, 3.75, 4.25, 4.75, 5], 1e-6, 1e-6, `${backend.kind} forward`);
      y.backward(ramp(24, [1, 1, 4, 6], backend));
      expectClose(await x.grad!.toArray(), [17.5, 25, 32.5, 59.5, 67, 74.5], 1e-5, 1e-6, `${backend.kind} gradient`);
    });
  });

  it('bilinear with aligned corners and a non-integer scale: forward and gradient', async () => {
    await onEach(async (backend) => {
      const x = ramp(6, [1, 1, 2, 3], backend, true);
      const y = w.upsampleBilinear2d(x, { scale: 1.5, alignCorners: true });
      expect([...y.shape]).toEqual([1, 1, 3, 4]);
      expectClose(await y.toArray(), [0, 2 / 3, 4 / 3, 2, 1.5, 13 / 6, 17 / 6, 3.5, 3, 11 / 3, 13 / 3, 5], 1e-6, 1e-6, `${backend.kind} forward`);
      y.backward(ramp(12, [1, 1, 3, 4], backend));
      expectClose(await x.grad!.toArray(), [19 / 6, 17 / 3, 49 / 6, 83 / 6, 49 / 3, 113 / 6], 1e-5, 1e-6, `${backend.kind} gradient`);
    });
  });

  it('bilinear downsampling reads at 1/scale (not in/out), and equal sizes copy the input', async () => {
    await onEach(async (backend) => {
      const x = ramp(7, [1, 1, 1, 7], backend);
      expectClose(await w.upsampleBilinear2d(x, { scale: [1, 0.5] }).toArray(), [0.5, 2.5, 4.5], 1e-6);
      expectClose(await w.upsampleBilinear2d(x, { scale: [1, 0.5], alignCorners: true }).toArray(), [0, 3, 6], 1e-6);
      expectClose(await w.upsampleBilinear2d(x, { scale: [1, 1.5] }).toArray(), [0, 0.5, 7 / 6, 11 / 6, 2.5, 19 / 6, 23 / 6, 4.5, 31 / 6, 35 / 6], 1e-6);
      const three = ramp(3, [1, 1, 1, 3], backend);
      expect(Array.from(await w.upsampleBilinear2d(three, { scale: [1, 1.2] }).toArray())).toEqual([0, 1, 2]);
    });
  });
});

describe('upsampling backward', () => {
  const cases: [number[], Scale][] = [
    [[1, 1, 1, 1], 2],
    [[2, 2, 5, 7], 2],
    [[1, 3, 7, 5], [3, 2]],
    [[1, 1, 13, 13], 3],
  ];
  const bilinearCases: [number[], Scale][] = [...cases, [[2, 1, 5, 7], 1.5], [[1, 2, 7, 13], [0.5, 0.6]], [[1, 1, 3, 5], 1.2]];

  for (const [shape, scale] of cases) {
    const label = `input ${JSON.stringify(shape)}, scale ${JSON.stringify(scale)}`;
    it(`nearest: gradcheck on the CPU and GPU against CPU, ${label}`, async () => {
      await gradcheck((x) => w.upsampleNearest2d(x, scale), [{ shape, data: randomData(size(shape), 1) }]);
      await compareBackward((x) => w.upsampleNearest2d(x, scale), [{ shape, data: randomData(size(shape), 2) }], gpu, { atol: 1e-6, rtol: 1e-5 });
    });
  }
  for (const [shape, scale] of bilinearCases) {
    for (const alignCorners of [false, true]) {
      const label = `input ${JSON.stringify(shape)}, scale ${JSON.stringify(scale)}, alignCorners ${alignCorners}`;
      it(`bilinear: gradcheck on the CPU and GPU against CPU, ${label}`, async () => {
        const fn = (x: Tensor): Tensor => w.upsampleBilinear2d(x, { scale, alignCorners });
        await gradcheck(fn, [{ shape, data: randomData(size(shape), 3) }]);
        await compareBackward(fn, [{ shape, data: randomData(size(shape), 4) }], gpu, { atol: BILINEAR_ATOL, rtol: 1e-5 });
      });
    }
  }

  it('the gradient of an input upsampled twice accumulates', async () => {
    for (const backend of [cpuBackend(), gpu]) {
      const x = w.fromArray([1, 2], [1, 1, 1, 2], { backend, requiresGrad: true });
      const y = w.add(w.sum(w.upsampleNearest2d(x, 2)), w.sum(w.upsampleBilinear2d(x, { scale: 3 })));
      y.backward();
      expectClose(await x.grad!.toArray(), [4 + 9, 4 + 9], 1e-5, 1e-6, backend.kind);
    }
  });

  it('the backward ops are differentiable (their gradient is the forward)', async () => {
    const nearest = (g: Tensor): Tensor => w.runOp('upsampleNearest2dBackward', [g], { scale: [2, 3], inputShape: [2, 1, 3, 2] });
    await gradcheck(nearest, [{ shape: [2, 1, 6, 6], data: randomData(72, 5) }]);
    await compareBackward(nearest, [{ shape: [2, 1, 6, 6], data: randomData(72, 6) }], gpu, { atol: 1e-6, rtol: 1e-5 });
    const bilinear = (g: Tensor): Tensor => w.runOp('upsampleBilinear2dBackward', [g], { scale: [1.5, 2], alignCorners: false, inputShape: [1, 2, 5, 3] });
    await gradcheck(bilinear, [{ shape: [1, 2, 7, 6], data: randomData(84, 7) }]);
    await compareBackward(bilinear, [{ shape: [1, 2, 7, 6], data: randomData(84, 8) }], gpu, { atol: 1e-5, rtol: 1e-5 });
  });
});

describe('upsampling errors', () => {
  const x = (shape: number[]): Tensor => w.zeros(shape, { backend: gpu });

  it('names the op and the shape of an input that is not 4-D', () => {
    expect(() => w.upsampleNearest2d(x([2, 2]))).toThrow('upsampleNearest2d: expected a 4-D input [N, C, H, W], got shape [2, 2]');
    expect(() => w.upsampleBilinear2d(x([1, 3, 4]))).toThrow('upsampleBilinear2d: expected a 4-D input [N, C, H, W], got shape [1, 3, 4]');
  });

  it('nearest takes positive integer scales only', () => {
    expect(() => w.upsampleNearest2d(x([1, 1, 2, 2]), 1.5)).toThrow('upsampleNearest2d: scale must be a positive integer or a pair of them [height, width], got 1.5');
    expect(() => w.upsampleNearest2d(x([1, 1, 2, 2]), [2, 0])).toThrow('upsampleNearest2d: scale must be a positive integer or a pair of them [height, width], got [2,0]');
  });

  it('bilinear rejects non-positive scales and outputs smaller than one pixel, as PyTorch', () => {
    expect(() => w.upsampleBilinear2d(x([1, 1, 2, 2]), { scale: -1 })).toThrow('upsampleBilinear2d: scale must be a positive number or a pair of them [height, width], got -1');
    expect(() => w.upsampleBilinear2d(x([1, 1, 2, 2]), { scale: Infinity })).toThrow('upsampleBilinear2d: scale must be a positive number');
    expect(() => w.upsampleBilinear2d(x([1, 1, 1, 7]), { scale: 0.5 })).toThrow(
      'upsampleBilinear2d: Input and output sizes should be greater than 0, but got input (H: 1, W: 7) output (H: 0, W: 3) (input shape [1, 1, 1, 7], scale [0.5, 0.5])',
    );
    expect(() => w.upsampleBilinear2d(x([1, 1, 0, 3]))).toThrow('upsampleBilinear2d: Input and output sizes should be greater than 0, but got input (H: 0, W: 3) output (H: 0, W: 6)');
    expect(() => w.upsampleBilinear2d(x([1, 1, 2, 2]), { alignCorners: 'yes' as unknown as boolean })).toThrow('upsampleBilinear2d: alignCorners must be a boolean, got yes');
  });

  it('backward ops name a gradient of the wrong shape', () => {
    expect(() => w.runOp('upsampleNearest2dBackward', [x([1, 1, 4, 5])], { scale: [2, 2], inputShape: [1, 1, 2, 2] })).toThrow(
      'upsampleNearest2dBackward: grad must have the upsampled shape [1, 1, 4, 4] of input [1, 1, 2, 2], got [1, 1, 4, 5]',
    );
    expect(() => w.runOp('upsampleBilinear2dBackward', [x([1, 1, 4, 4])], { scale: [1.5, 1.5], alignCorners: false, inputShape: [1, 1, 2, 2] })).toThrow(
      'upsampleBilinear2dBackward: grad must have the upsampled shape [1, 1, 3, 3] of input [1, 1, 2, 2], got [1, 1, 4, 4]',
    );
  });
});
