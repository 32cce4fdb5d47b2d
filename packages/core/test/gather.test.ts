import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { WebGpuBackend } from '../src/index.ts';
import type { GpuStorage } from '../src/backend/webgpu/webgpu_backend.ts';
import { gatherProgram } from '../src/kernels/gather.ts';
import { Random } from '../src/util/random.ts';
import { compareBackward, gradcheck } from './gradcheck.ts';
import { cpuBackend, expectTensorsClose, gpuBackend, onBoth, randomData } from './helpers.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

const size = (shape: number[]): number => shape.reduce((p, d) => p * d, 1);

/** Seeded integer indices in [0, bound), as floats. */
function indices(n: number, bound: number, seed: number): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: n }, () => Math.min(bound - 1, Math.floor(rng.uniform() * bound)));
}

// [x shape, dim, index shape]
const cases: [number[], number, number[]][] = [
  [[1], 0, [1]],
  [[7], 0, [33]],
  [[7, 5], 0, [3, 5]],
  [[7, 5], 1, [7, 2]],
  [[7, 5], -1, [4, 9]],
  [[3, 4, 5], 1, [2, 6, 3]],
  [[33, 257], 1, [33, 100]],
  [[257, 3], 0, [300, 3]],
  [[2, 3, 4, 5], 2, [2, 3, 7, 5]],
];

describe('gather: WebGPU against the CPU reference', () => {
  for (const [sx, dim, si] of cases) {
    it(`x ${JSON.stringify(sx)}, dim ${dim}, index ${JSON.stringify(si)}`, async () => {
      const d = dim < 0 ? dim + sx.length : dim;
      const [gx, cx] = onBoth(randomData(size(sx), 1), sx, gpu);
      const [gi, ci] = onBoth(indices(size(si), sx[d], 2), si, gpu);
      const want = w.gather(cx, dim, ci);
      expect([...want.shape]).toEqual(si);
      await expectTensorsClose(w.gather(gx, dim, gi), want, 0, 0, 'gather');
    });
  }

  it("follows torch.gather's example (the reference itself)", async () => {
    for (const backend of [cpuBackend(), gpu]) {
      const t = w.fromArray([1, 2, 3, 4], [2, 2], { backend });
      const i1 = w.fromArray([0, 0, 1, 0], [2, 2], { backend });
      expect(Array.from(await w.gather(t, 1, i1).toArray())).toEqual([1, 1, 4, 3]);
      const i0 = w.fromArray([1, 0, 1, 1, 0, 0], [3, 2], { backend });
      expect(Array.from(await w.gather(t, 0, i0).toArray())).toEqual([3, 2, 3, 4, 1, 2]);
    }
  });

  it('on the GPU out-of-range indices are an error at the next read, and the kernel clamps them instead of reading out of bounds', async () => {
    const x = w.fromArray([10, 20, 30, 40, 50, 60], [2, 3], { backend: gpu });
    const index = w.fromArray([-3, 99, 1.2, 2, 7, -0.4], [2, 3], { backend: gpu });
    await expect(w.gather(x, 1, index).toArray()).rejects.toThrow(/^gather: index (-3|99|1\.2|7|-0\.4) is out of range for dimension 1 of size 3 .*\n\(found on the GPU after the call: 5 bad values/);
    // The kernel alone, without the op's check.
    const out = gpu.alloc(6);
    const arg = (t: w.Tensor) => ({ shape: t.shape, storage: t.storageFor('test') as GpuStorage });
    gpu.run(gatherProgram(1, arg(x), arg(index), { shape: [2, 3], storage: out }));
    expect(Array.from(await gpu.read(out))).toEqual([10, 30, 20, 60, 60, 40]);
    gpu.free(out);
  });
});

describe('gather backward', () => {
  it('sums the gradient of repeated indices (the reference itself)', async () => {
    for (const backend of [cpuBackend(), gpu]) {
      const x = w.fromArray([1, 2, 3], [3], { backend, requiresGrad: true });
      const index = w.fromArray([2, 0, 2, 2], [4], { backend });
      w.gather(x, 0, index).backward(w.fromArray([1, 10, 100, 1000], [4], { backend }));
      expect(Array.from(await x.grad!.toArray())).toEqual([10, 0, 1101]);
      expect(index.grad).toBeNull();
    }
  });

  const gradCases: [number[], number, number[]][] = [
    [[4, 3], 0, [6, 3]],
    [[4, 3], 1, [2, 5]],
    [[2, 3, 4], 2, [2, 2, 7]],
  ];
  for (const [sx, dim, si] of gradCases) {
    it(`gradcheck x ${JSON.stringify(sx)}, dim ${dim}, index ${JSON.stringify(si)} on the CPU`, async () => {
      await gradcheck((x, i) => w.gather(x, dim, i), [
        { shape: sx, data: randomData(size(sx), 3) },
        { shape: si, data: indices(size(si), sx[dim], 4), requiresGrad: false },
      ]);
    });
  }

  for (const [sx, dim, si] of [...cases, ...gradCases]) {
    it(`GPU backward matches the CPU: x ${JSON.stringify(sx)}, dim ${dim}, index ${JSON.stringify(si)}`, async () => {
      const d = dim < 0 ? dim + sx.length : dim;
      await compareBackward(
        (x, i) => w.gather(x, dim, i),
        [
          { shape: sx, data: randomData(size(sx), 5) },
          { shape: si, data: indices(size(si), sx[d], 6), requiresGrad: false },
        ],
        gpu,
        { atol: 1e-5, rtol: 1e-5 },
      );
    });
  }
});

describe('gather errors', () => {
  const c = (data: number[], shape: number[]) => w.fromArray(data, shape, { backend: cpuBackend() });
  it('the CPU names the op and the bad index value', () => {
    const x = c([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]);
    expect(() => w.gather(x, 1, c([0, 5], [2, 1]))).toThrow('gather: index 5 is out of range for dimension 1 of size 4');
    expect(() => w.gather(x, 1, c([-1, 0], [2, 1]))).toThrow('gather: index -1 is out of range');
    expect(() => w.gather(x, 0, c([0.5, 0], [1, 2]))).toThrow('gather: index 0.5 is out of range for dimension 0 of size 2');
  });
  it('names both shapes when the index has another rank or does not fit', () => {
    const x = w.zeros([3, 4], { backend: gpu });
    expect(() => w.gather(x, 1, w.zeros([3], { backend: gpu }))).toThrow('gather: index must have the rank of x (x shape [3, 4], index shape [3])');
    expect(() => w.gather(x, 1, w.zeros([5, 2], { backend: gpu }))).toThrow(
      'gather: index shape [5, 2] does not fit x shape [3, 4] outside dim 1 (dimension 0: 5 > 3)',
    );
  });
  it('names the dim when it is out of range', () => {
    const x = w.zeros([3, 4], { backend: gpu });
    expect(() => w.gather(x, 2, w.zeros([3, 4], { backend: gpu }))).toThrow('gather: axis 2 is out of range for a tensor of rank 2');
  });
  it('rejects gathering from an empty dimension and 0-d tensors', () => {
    expect(() => w.gather(w.zeros([3, 0], { backend: gpu }), 1, w.zeros([3, 1], { backend: gpu }))).toThrow('gather: cannot gather from dimension 1 of x, which has size 0');
    expect(() => w.gather(w.zeros([], { backend: gpu }), 0, w.zeros([], { backend: gpu }))).toThrow('gather: x must have at least one dimension');
  });
});

