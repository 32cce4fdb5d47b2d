import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { WebGpuBackend } from '../src/index.ts';
import { dropoutDraw } from '../src/reference/dropout.ts';
import { cpuBackend, expectClose, gpuBackend, onBoth, randomData } from './helpers.ts';
import { compareBackward } from './gradcheck.ts';

// No PyTorch fixture is possible for dropout: PyTorch draws its mask with its own generator
// (Philox on CUDA, mt19937 on the CPU), so only the distribution and the scaling can match.
// The tests check that both backends draw the same mask bit for bit, that the mask has the
// right statistics, and that the gradient reuses it.

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

/** Values bounded away from 0, so that a zero in the output always means a dropped element. */
function nonZero(n: number, seed: number): Float32Array {
  return randomData(n, seed).map((v) => (v >= 0 ? v + 0.5 : v - 0.5));
}

describe('dropout', () => {
  it('draws the same mask on the GPU and the CPU reference, bit for bit, on odd sizes', async () => {
    for (const [shape, p, seed] of [
      [[1001], 0.5, 1],
      [[3, 7, 5], 0.3, 0xdeadbeef],
      [[2, 3, 5, 7], 0.9, 42],
    ] as const) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = nonZero(n, 3);
      const [xg, xc] = onBoth(data, shape, gpu);
      const yg = await w.dropout(xg, p, { seed }).toArray();
      const yc = await w.dropout(xc, p, { seed }).toArray();
      expect(yg).toEqual(yc);
      // The reference's mask is the spec: element i kept exactly when its draw clears the threshold.
      const scale = Math.fround(1 / (1 - p));
      const threshold = Math.ceil(p * 2 ** 24);
      for (let i = 0; i < n; i++) {
        const want = dropoutDraw(seed, i) >= threshold ? Math.fround(data[i] * scale) : 0;
        if (Math.abs(yc[i]) !== Math.abs(want)) expect.fail(`shape [${shape}], element ${i}: got ${yc[i]}, want ${want}`);
      }
    }
  });

  it('keeps a fraction 1 − p of 100k elements, within 5 standard deviations', async () => {
    const n = 100_000;
    const x = w.ones([n]);
    for (const p of [0.1, 0.5, 0.8]) {
      const y = await w.dropout(x, p, { seed: 7 }).toArray();
      const kept = y.reduce((c, v) => c + (v !== 0 ? 1 : 0), 0);
      const sd = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(kept - n * (1 - p)), `p = ${p}: kept ${kept} of ${n}`).toBeLessThan(5 * sd);
      // Kept elements are scaled by 1 / (1 − p), so the mean stays near 1.
      const scale = Math.fround(1 / (1 - p));
      expect(y.every((v) => v === 0 || v === scale)).toBe(true);
      expect(Math.abs(y.reduce((s, v) => s + v, 0) / n - 1)).toBeLessThan((5 * sd * scale) / n);
    }
    x.dispose();
  });

  it('neighbouring elements and neighbouring seeds are not correlated', async () => {
    const n = 100_000;
    const x = w.ones([n]);
    const a = await w.dropout(x, 0.5, { seed: 1 }).toArray();
    const b = await w.dropout(x, 0.5, { seed: 2 }).toArray();
    let both = 0;
    let pairs = 0;
    for (let i = 0; i < n; i++) {
      if (a[i] !== 0 && b[i] !== 0) both++;
      if (i > 0 && a[i] !== 0 && a[i - 1] !== 0) pairs++;
    }
    // Independent masks keep a given element in both with probability 1/4; sd = sqrt(n · 3/16).
    const sd = Math.sqrt((n * 3) / 16);
    expect(Math.abs(both - n / 4)).toBeLessThan(5 * sd);
    expect(Math.abs(pairs - (n - 1) / 4)).toBeLessThan(5 * sd * 2);
    x.dispose();
  });

  it('p = 0 copies the input, p = 1 gives zeros (NaN stays NaN, as in PyTorch)', async () => {
    const data = randomData(37, 5);
    const x = w.fromArray(data, [37]);
    const same = w.dropout(x, 0);
    expect(same).not.toBe(x);
    expect(await same.toArray()).toEqual(data);
    const zeros = await w.dropout(x, 1).toArray();
    expect(zeros.every((v) => v === 0)).toBe(true);
    const withNaN = await w.dropout(w.fromArray([NaN, 1, 2], [3]), 1).toArray();
    expect(Number.isNaN(withNaN[0])).toBe(true);
    expect([Math.abs(withNaN[1]), Math.abs(withNaN[2])]).toEqual([0, 0]);
  });

  it('the same seed gives the same mask; without a seed, manualSeed makes calls reproducible and successive calls differ', async () => {
    const x = w.fromArray(nonZero(501, 2), [501]);
    const seeded = [await w.dropout(x, 0.5, { seed: 99 }).toArray(), await w.dropout(x, 0.5, { seed: 99 }).toArray()];
    expect(seeded[0]).toEqual(seeded[1]);
    w.manualSeed(123);
    const first = [await w.dropout(x, 0.5).toArray(), await w.dropout(x, 0.5).toArray()];
    w.manualSeed(123);
    const again = [await w.dropout(x, 0.5).toArray(), await w.dropout(x, 0.5).toArray()];
    expect(again).toEqual(first);
    expect(first[1]).not.toEqual(first[0]);
  });

  it('backward multiplies the gradient by the same mask / (1 − p), identically on GPU and CPU', async () => {
    const shape = [3, 7, 5];
    const n = 105;
    const p = 0.4;
    const seed = 2024;
    await compareBackward((x) => w.dropout(x, p, { seed }), [{ shape, data: nonZero(n, 8) }], gpu, { atol: 0, rtol: 0 });
    // On the GPU: the input's gradient is upstream · (output / input), i.e. the mask over (1 − p).
    const data = nonZero(n, 8);
    const x = w.fromArray(data, shape, { requiresGrad: true });
    const y = w.dropout(x, p, { seed });
    const upstream = randomData(n, 9);
    y.backward(w.fromArray(upstream, shape));
    const out = await y.toArray();
    const grad = await x.grad!.toArray();
    const scale = Math.fround(1 / (1 - p));
    const want = Array.from(out, (v, i) => (v === 0 ? 0 : upstream[i] * scale));
    expectClose(grad, want, 1e-6, 1e-6, 'gradient');
    expect(want.filter((v) => v === 0).length).toBeGreaterThan(20);
  });

  it('the gradient through dropout used twice with one seed accumulates both uses', async () => {
    const x = w.fromArray(nonZero(64, 4), [64], { requiresGrad: true, backend: cpuBackend() });
    const y = w.add(w.dropout(x, 0.5, { seed: 5 }), w.dropout(x, 0.5, { seed: 5 }));
    w.sum(y).backward();
    const mask = Array.from({ length: 64 }, (_, i) => (dropoutDraw(5, i) >= 2 ** 23 ? 4 : 0));
    expect(Array.from(await x.grad!.toArray())).toEqual(mask);
  });

  it('rejects a p outside [0, 1] and a seed that is not a u32', () => {
    const x = w.zeros([2, 3]);
    expect(() => w.dropout(x, 1.5)).toThrow(/dropout: p must be a probability in \[0, 1\], got 1.5 \(input of shape \[2, 3\]\)/);
    expect(() => w.dropout(x, -0.1)).toThrow(/got -0.1/);
    expect(() => w.dropout(x, NaN)).toThrow(/got NaN/);
    expect(() => w.dropout(x, 0.5, { seed: -1 })).toThrow(/dropout: seed must be an integer in \[0, 2\^32\), got -1/);
    expect(() => w.dropout(x, 0.5, { seed: 2 ** 32 })).toThrow(/seed must be an integer/);
    expect(() => w.dropout(x, 0.5, { seed: 1.5 })).toThrow(/seed must be an integer/);
  });
});
