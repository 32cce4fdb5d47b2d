import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { Tensor, WebGpuBackend } from '../src/index.ts';
import { compareBackward } from './gradcheck.ts';
import { expectTensorsClose, gpuBackend, onBoth, randomData } from './helpers.ts';

// Reductions and normalization statistics pick their workgroup size from the device (64 on
// software adapters, 256 on GPUs). The other tests run at the size of the adapter at hand;
// these run every size, so the kernels a GPU would use are tested on a software adapter too.

let gpu: WebGpuBackend;
let original: { workgroup: number; longSerial: boolean };
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
  original = { workgroup: gpu.reductionWorkgroup, longSerial: gpu.longSerialReductions };
});
afterAll(() => {
  gpu.reductionWorkgroup = original.workgroup;
  gpu.longSerialReductions = original.longSerial;
});

const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);
const data = (shape: number[], seed: number): Float32Array => randomData(size(shape), seed, 2);

const reductions: [number[], number | number[]][] = [
  [[257], 0],
  [[5, 300], 1],
  [[7, 33, 5], [0, 2]],
  [[3, 20_000], 1],
  [[10_001, 3], 0],
];

const norms: { name: string; shape: number[]; fn: (x: Tensor, g: Tensor, b: Tensor) => Tensor }[] = [
  { name: 'batchNorm training', shape: [4, 6, 9, 11], fn: (x, g, b) => w.batchNorm(x, { weight: g, bias: b, training: true }) },
  { name: 'groupNorm(3)', shape: [3, 6, 7, 9], fn: (x, g, b) => w.groupNorm(x, 3, { weight: g, bias: b }) },
  { name: 'batchNorm training, two-level', shape: [2, 2, 128, 130], fn: (x, g, b) => w.batchNorm(x, { weight: g, bias: b, training: true }) },
];

for (const wg of [32, 64, 128, 256]) {
  describe(`reduction workgroup ${wg}`, () => {
    beforeAll(() => {
      gpu.reductionWorkgroup = wg;
    });

    it('the backend reports it to the kernels', () => {
      expect(gpu.traits.reductionWorkgroup).toBe(wg);
    });

    for (const [shape, axes] of reductions) {
      it(`sum, mean and variance of ${JSON.stringify(shape)} over ${JSON.stringify(axes)} match the CPU`, async () => {
        const [g, c] = onBoth(data(shape, size(shape) + wg), shape, gpu);
        await expectTensorsClose(w.sum(g, axes), w.sum(c, axes), 2e-4, 1e-4, 'sum');
        await expectTensorsClose(w.mean(g, axes), w.mean(c, axes), 2e-5, 1e-4, 'mean');
        await expectTensorsClose(w.variance(g, axes), w.variance(c, axes), 2e-5, 1e-4, 'variance');
      });
    }

    for (const n of norms) {
      it(`${n.name} ${JSON.stringify(n.shape)}: forward and backward match the CPU`, async () => {
        const c = n.shape[1];
        const inputs = [
          { shape: n.shape, data: data(n.shape, wg) },
          { shape: [c], data: Float32Array.from(data([c], wg + 1), (v) => 1 + 0.25 * v) },
          { shape: [c], data: data([c], wg + 2) },
        ];
        await compareBackward(n.fn, inputs, gpu, { atol: 1e-4, rtol: 1e-3 });
      });
    }
  });
}

// Many outputs of moderate length: one thread per output with longSerialReductions, a workgroup each without.
const manyOutputs: [string, number[], (x: Tensor, g: Tensor, b: Tensor) => Tensor][] = [
  ['mean over H, W (a global average pool)', [32, 16, 9, 11], (x) => w.mean(x, [2, 3])],
  ['variance over the last axis', [300, 333], (x) => w.variance(x, -1)],
  ['groupNorm(8) of 32 samples', [32, 16, 7, 9], (x, g, b) => w.groupNorm(x, 8, { weight: g, bias: b })],
  ['instanceNorm of [20, 16, 13, 5]', [20, 16, 13, 5], (x, g, b) => w.instanceNorm(x, { weight: g, bias: b })],
];

for (const longSerial of [true, false]) {
  describe(`long serial reductions ${longSerial ? 'on' : 'off'}`, () => {
    beforeAll(() => {
      gpu.reductionWorkgroup = original.workgroup;
      gpu.longSerialReductions = longSerial;
    });
    afterAll(() => {
      gpu.longSerialReductions = original.longSerial;
    });

    for (const [name, shape, fn] of manyOutputs) {
      it(`${name} ${JSON.stringify(shape)}: forward and backward match the CPU`, async () => {
        const c = shape[1];
        const inputs = [
          { shape, data: data(shape, 7) },
          { shape: [c], data: Float32Array.from(data([c], 8), (v) => 1 + 0.25 * v) },
          { shape: [c], data: data([c], 9) },
        ];
        await compareBackward(fn, inputs, gpu, { atol: 1e-4, rtol: 1e-3 });
      });
    }

    it('picks the kernel the setting asks for', () => {
      const x = w.zeros([32, 16, 9, 11]);
      const run = gpu.run.bind(gpu);
      const entries: string[] = [];
      gpu.run = (p) => {
        entries.push(p.entryPoint ?? '');
        run(p);
      };
      try {
        w.tidy(() => w.mean(x, [2, 3]));
      } finally {
        gpu.run = run;
        x.dispose();
      }
      expect(entries).toEqual([longSerial ? 'serial' : 'main']);
    });
  });
}

describe('reduction workgroup setting', () => {
  it('rejects sizes the kernels are not built for', () => {
    expect(() => {
      gpu.reductionWorkgroup = 48;
    }).toThrow(/reductionWorkgroup: expected 32, 64, 128 or 256, got 48/);
  });
});
