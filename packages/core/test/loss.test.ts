import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { WebGpuBackend } from '../src/index.ts';
import type { GpuStorage } from '../src/backend/webgpu/webgpu_backend.ts';
import { crossEntropyProgram } from '../src/kernels/softmax.ts';
import { Random } from '../src/util/random.ts';
import { compareBackward, gradcheck } from './gradcheck.ts';
import { cpuBackend, expectClose, gpuBackend, onBoth, randomData } from './helpers.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

/** Seeded class indices in [0, classes), as floats. */
function classes(n: number, k: number, seed: number): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: n }, () => Math.min(k - 1, Math.floor(rng.uniform() * k)));
}

/** −mean log softmax(logits)[target], straight from the definition in float64. */
function definition(logits: Float32Array, target: Float32Array, n: number, k: number): number {
  let total = 0;
  for (let r = 0; r < n; r++) {
    const row = Array.from(logits.slice(r * k, r * k + k));
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    total += lse - row[target[r]];
  }
  return total / n;
}

const shapes: [number, number][] = [
  [1, 1],
  [1, 7],
  [4, 10],
  [7, 33],
  [33, 1000],
  [300, 7],
  [257, 3],
];

describe('crossEntropy: WebGPU against the CPU reference', () => {
  for (const [n, k] of shapes) {
    it(`logits [${n}, ${k}]`, async () => {
      const logits = randomData(n * k, n + k, 5);
      const target = classes(n, k, n * k);
      const [gl, cl] = onBoth(logits, [n, k], gpu);
      const [gt, ct] = onBoth(target, [n], gpu);
      const want = w.crossEntropy(cl, ct);
      expect([...want.shape]).toEqual([]);
      const exact = definition(logits, target, n, k);
      expectClose([await want.item()], [exact], 1e-6, 1e-6, 'cpu');
      expectClose([await w.crossEntropy(gl, gt).item()], [exact], 1e-5, 1e-5, 'gpu');
    });
  }

  it('is ln K for equal logits and stays finite for logits of ±1000', async () => {
    for (const backend of [cpuBackend(), gpu]) {
      const flat = w.crossEntropy(w.zeros([3, 4], { backend }), w.fromArray([0, 3, 1], [3], { backend }));
      expect(await flat.item()).toBeCloseTo(Math.log(4), 6);
      const big = w.fromArray([1000, -1000, 0, 1000, 1000, 1000], [2, 3], { backend });
      const loss = await w.crossEntropy(big, w.fromArray([1, 2], [2], { backend })).item();
      // Row 0: logsumexp 1000, picked −1000; row 1: logsumexp 1000 + ln 3, picked 1000.
      expect(loss).toBeCloseTo((2000 + Math.log(3)) / 2, 3);
    }
  });

  it('is NaN for an empty batch, as in PyTorch', async () => {
    for (const backend of [cpuBackend(), gpu]) {
      const loss = w.crossEntropy(w.zeros([0, 3], { backend }), w.zeros([0], { backend }));
      expect(Number.isNaN(await loss.item())).toBe(true);
    }
  });
});

describe('crossEntropy backward', () => {
  for (const [n, k] of [[1, 1], [3, 5], [4, 2]] as [number, number][]) {
    it(`gradcheck logits [${n}, ${k}] on the CPU`, async () => {
      await gradcheck(w.crossEntropy, [
        { shape: [n, k], data: randomData(n * k, 3, 2) },
        { shape: [n], data: classes(n, k, 4), requiresGrad: false },
      ]);
    });
  }

  for (const [n, k] of shapes) {
    it(`GPU backward matches the CPU: logits [${n}, ${k}]`, async () => {
      await compareBackward(
        w.crossEntropy,
        [
          { shape: [n, k], data: randomData(n * k, 5, 4) },
          { shape: [n], data: classes(n, k, 6), requiresGrad: false },
        ],
        gpu,
        { atol: 1e-6, rtol: 1e-4 },
      );
    });
  }

  it('is (softmax − onehot) / N', async () => {
    for (const backend of [cpuBackend(), gpu]) {
      const logits = w.fromArray([0, Math.log(3), 0, 0], [2, 2], { backend, requiresGrad: true });
      const target = w.fromArray([1, 0], [2], { backend, requiresGrad: true });
      w.crossEntropy(logits, target).backward();
      expectClose(await logits.grad!.toArray(), [0.25 / 2, (0.75 - 1) / 2, (0.5 - 1) / 2, 0.5 / 2], 1e-6, 1e-6);
      expect(target.grad).toBeNull();
    }
  });

  it('equals the composite −mean(gather(logSoftmax(x), 1, t))', async () => {
    const [n, k] = [6, 9];
    const data = randomData(n * k, 8, 3);
    const t = classes(n, k, 9);
    const fused = w.fromArray(data, [n, k], { backend: gpu, requiresGrad: true });
    const composite = w.fromArray(data, [n, k], { backend: gpu, requiresGrad: true });
    const target = w.fromArray(t, [n], { backend: gpu });
    const loss = w.crossEntropy(fused, target);
    const picked = w.gather(w.logSoftmax(composite), 1, target.view([n, 1]));
    const other = w.mul(w.mean(picked), -1);
    expect(await loss.item()).toBeCloseTo(await other.item(), 5);
    loss.backward();
    other.backward();
    expectClose(await fused.grad!.toArray(), await composite.grad!.toArray(), 1e-6, 1e-4);
  });
});

describe('crossEntropy errors', () => {
  const z = (shape: number[]) => w.zeros(shape, { backend: cpuBackend() });
  it('names the expected and given target shapes', () => {
    expect(() => w.crossEntropy(z([4, 3]), z([4, 1]))).toThrow('crossEntropy: expected target of shape [4], got [4, 1]');
    expect(() => w.crossEntropy(z([4, 3]), z([5]))).toThrow('crossEntropy: expected target of shape [4], got [5]');
  });
  it('wants logits of shape [N, K] with K >= 1', () => {
    expect(() => w.crossEntropy(z([2, 4, 3]), z([2]))).toThrow('crossEntropy: expected logits of shape [N, K], got [2, 4, 3]');
    expect(() => w.crossEntropy(z([2, 0]), z([2]))).toThrow('crossEntropy: logits need at least one class, got shape [2, 0]');
  });
  it('the CPU rejects targets that are not class indices', () => {
    const logits = z([2, 3]);
    expect(() => w.crossEntropy(logits, w.fromArray([0, 3], [2], { backend: cpuBackend() }))).toThrow('crossEntropy: target 3 is not a class index (expected an integer in [0, 2])');
    expect(() => w.crossEntropy(logits, w.fromArray([0, 1.5], [2], { backend: cpuBackend() }))).toThrow('crossEntropy: target 1.5 is not a class index');
  });
  it('on the GPU an out-of-range target is an error at the next read, and the kernel itself clamps it (never reads out of bounds)', async () => {
    const logits = w.fromArray([1, 2, 3, 4, 5, 6], [2, 3], { backend: gpu });
    const bad = w.fromArray([-2, 9], [2], { backend: gpu });
    await expect(w.crossEntropy(logits, bad).item()).rejects.toThrow(/^crossEntropy: target (-2|9) is not a class index \(expected an integer in \[0, 2\]\)\n\(found on the GPU after the call: 2 bad values/);
    // The kernel alone, without the op's check.
    const out = gpu.alloc(1);
    gpu.run(crossEntropyProgram({ shape: logits.shape, storage: logits.storageFor('test') as GpuStorage }, { shape: bad.shape, storage: bad.storageFor('test') as GpuStorage }, { shape: [], storage: out }));
    const clamped = (await gpu.read(out))[0];
    gpu.free(out);
    const inRange = await w.crossEntropy(logits, w.fromArray([0, 2], [2], { backend: gpu })).item();
    expect(clamped).toBeCloseTo(inRange, 6);
  });
});
