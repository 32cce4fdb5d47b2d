import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { WebGpuBackend } from '../src/index.ts';
import { histogramReference } from '../src/reference/histogram.ts';
import { PRIVATE_BINS } from '../src/kernels/histogram.ts';
import { cpuBackend, gpuBackend, onBoth, randomData } from './helpers.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

/** Counts on the GPU and on the CPU reference for the same values. */
async function bothCounts(data: Float32Array, shape: number[], options: w.HistogramOptions): Promise<[Float32Array, Float32Array]> {
  const [g, c] = onBoth(data, shape, gpu);
  const outG = w.histogram(g, options);
  const outC = w.histogram(c, options);
  expect(outG.backend).toBe(gpu);
  expect(outC.backend).toBe(cpuBackend());
  const result: [Float32Array, Float32Array] = [await outG.toArray(), await outC.toArray()];
  for (const t of [g, c, outG, outC]) t.dispose();
  return result;
}

/** Seeded values in [-scale, scale) with a few NaN, infinities and exact range ends mixed in. */
function awkwardData(n: number, seed: number, scale: number, lo: number, hi: number): Float32Array {
  const data = randomData(n, seed, scale);
  const specials = [NaN, Infinity, -Infinity, lo, hi, NaN];
  for (let k = 0; k < specials.length && k * 7 < n; k++) data[(k * 7919) % n] = specials[k];
  return data;
}

function inRange(data: Float32Array, lo: number, hi: number): number {
  return data.filter((v) => v >= lo && v <= hi).length;
}

// Odd sizes, one bin to more than fit in workgroup memory, ranges narrower and wider than the data.
// Widths are powers of two, so the bin arithmetic is exact and GPU and CPU agree bin for bin.
const cases: { n: number; shape?: number[]; bins: number; min: number; max: number; scale: number }[] = [
  { n: 1, bins: 3, min: -1, max: 1, scale: 1 },
  { n: 7, bins: 1, min: -0.5, max: 0.5, scale: 1 },
  { n: 105, shape: [3, 5, 7], bins: 10, min: -4, max: 4, scale: 2 },
  { n: 1000, bins: 100, min: -1, max: 1, scale: 1.25 },
  { n: 4099, bins: PRIVATE_BINS, min: -2, max: 2, scale: 2 },
  { n: 4099, bins: PRIVATE_BINS + 1, min: -2, max: 2, scale: 2 },
  { n: 20_011, bins: 5000, min: 0, max: 1, scale: 1 },
  // More elements than the capped workgroups cover in one sweep: invocations loop.
  { n: 600_001, bins: 37, min: -1, max: 1, scale: 1.1 },
];

describe('histogram', () => {
  it('the CPU reference follows torch.histc on a hand-worked case', () => {
    const out = { shape: [4], data: new Float32Array(4) };
    // [0, 1] in 4 bins: 0 and 0.2 in bin 0, 0.25 starts bin 1, 1 closes bin 3; −0.1, 1.5, NaN, ∞ are not counted.
    histogramReference({ shape: [9], data: Float32Array.of(0, 0.2, 0.25, 0.6, 1, -0.1, 1.5, NaN, Infinity) }, out, 4, 0, 1);
    expect([...out.data]).toEqual([2, 1, 1, 1]);
  });

  for (const c of cases) {
    it(`GPU matches the CPU reference: ${c.n} values, ${c.bins} bins over [${c.min}, ${c.max}]`, async () => {
      const data = awkwardData(c.n, c.n + c.bins, c.scale, c.min, c.max);
      const [g, cpu] = await bothCounts(data, c.shape ?? [c.n], { bins: c.bins, min: c.min, max: c.max });
      expect(g.length).toBe(c.bins);
      expect([...g]).toEqual([...cpu]);
      // The counts are exactly the in-range, non-NaN elements.
      expect(g.reduce((s, v) => s + v, 0)).toBe(inRange(data, c.min, c.max));
    });
  }

  it('every workgroup size a device may use gives the same counts', async () => {
    const data = awkwardData(70_001, 5, 1.2, -1, 1);
    const saved = gpu.reductionWorkgroup;
    try {
      for (const size of [32, 64, 128, 256]) {
        gpu.reductionWorkgroup = size;
        for (const bins of [50, PRIVATE_BINS + 3]) {
          const [g, cpu] = await bothCounts(data, [70_001], { bins, min: -1, max: 1 });
          expect([...g], `workgroup ${size}, ${bins} bins`).toEqual([...cpu]);
        }
      }
    } finally {
      gpu.reductionWorkgroup = saved;
    }
  });

  it('a range whose width is not a power of two puts values in the same bins on GPU and CPU', async () => {
    const data = randomData(3001, 11, 3);
    const [g, cpu] = await bothCounts(data, [3001], { bins: 7, min: -2.3, max: 2.9 });
    expect([...g]).toEqual([...cpu]);
  });

  it('an empty input gives zero counts', async () => {
    const [g, cpu] = await bothCounts(new Float32Array(0), [2, 0, 3], { bins: 5, min: 0, max: 1 });
    expect([...g]).toEqual([0, 0, 0, 0, 0]);
    expect([...cpu]).toEqual([0, 0, 0, 0, 0]);
  });

  it('is not differentiable: its counts never require grad', () => {
    const x = w.rand([4, 3], { requiresGrad: true });
    const h = w.histogram(x, { bins: 4, min: 0, max: 1 });
    expect(h.requiresGrad).toBe(false);
    expect(h.gradFn).toBeNull();
    x.dispose();
    h.dispose();
  });

  it('bins defaults to 100, as torch.histc', () => {
    const h = w.histogram(w.zeros([3]), { min: -1, max: 1 });
    expect(h.shape).toEqual([100]);
    h.dispose();
  });

  it('rejects bad options with messages naming them', () => {
    const x = w.zeros([2, 3]);
    expect(() => w.histogram(x, { bins: 0, min: 0, max: 1 })).toThrow('histogram: bins must be a positive integer, got 0');
    expect(() => w.histogram(x, { bins: 2.5, min: 0, max: 1 })).toThrow('histogram: bins must be a positive integer, got 2.5');
    expect(() => w.histogram(x, { bins: 4, min: 1, max: 1 })).toThrow('histogram: max must be greater than min (as float32), got min 1, max 1');
    expect(() => w.histogram(x, { bins: 4, min: 2, max: 1 })).toThrow(/max must be greater than min/);
    expect(() => w.histogram(x, { bins: 4, min: 0, max: Infinity })).toThrow(/min and max must be finite float32 numbers/);
    expect(() => w.histogram(x, { bins: 4, min: -3e38, max: 3e38 })).toThrow(/with a finite difference, got min -3e\+38, max 3e\+38/);
    expect(() => w.histogram(x, { bins: 4, min: NaN, max: 1 })).toThrow(/min and max must be finite/);
    x.dispose();
  });
});

interface HistogramCase {
  id: string;
  shape: number[];
  input: (number | string)[];
  bins: number;
  min: number;
  max: number;
  counts: number[];
}

describe('histogram vs PyTorch (torch.histc fixtures)', () => {
  const fixture = JSON.parse(readFileSync(new URL('./fixtures/histogram.json', import.meta.url), 'utf8')) as { cases: HistogramCase[] };

  for (const c of fixture.cases) {
    it(`${c.id}: GPU and CPU give torch.histc's counts`, async () => {
      // Infinities are stored as the strings "Infinity" / "-Infinity".
      const data = Float32Array.from(c.input, (v) => Number(v));
      const [g, cpu] = await bothCounts(data, c.shape, { bins: c.bins, min: c.min, max: c.max });
      expect([...g], 'GPU').toEqual(c.counts);
      expect([...cpu], 'CPU').toEqual(c.counts);
    });
  }
});
