import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { Backend, Tensor, WebGpuBackend } from '../src/index.ts';
import { cpuBackend, expectClose, gpuBackend, randomData } from './helpers.ts';

interface FixtureTensor {
  shape: number[];
  data: number[];
}

interface ClipCase {
  id: string;
  fn: 'clipGradNorm' | 'clipGradValue';
  options: { maxNorm?: number; normType?: number | 'inf'; clipValue?: number };
  grads: FixtureTensor[];
  expect: FixtureTensor[];
  total?: number;
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/lr_schedules.json', import.meta.url), 'utf8')) as { clipping: ClipCase[] };

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

/** Parameters (zeros) whose gradients hold `grads`, on `backend`. */
function paramsWith(grads: readonly FixtureTensor[], backend: Backend): Tensor[] {
  return grads.map((g) => {
    const p = w.zeros(g.shape, { backend, requiresGrad: true });
    p.grad = w.Tensor.adopt(w.fromArray(g.data, g.shape, { backend }));
    return p;
  });
}

function dispose(ts: readonly Tensor[]): void {
  for (const t of ts) t.dispose();
}

/** Runs a fixture case on `backend`; returns the clipped gradients and the norm (if any). */
async function runCase(c: ClipCase, backend: Backend): Promise<{ grads: Float32Array[]; total: number | null }> {
  const params = paramsWith(c.grads, backend);
  try {
    let total: number | null = null;
    if (c.fn === 'clipGradNorm') {
      const normType = c.options.normType === 'inf' ? Infinity : c.options.normType;
      const t = w.clipGradNorm(params, c.options.maxNorm!, { normType });
      expect([...t.shape]).toEqual([]);
      total = await t.item();
      t.dispose();
    } else {
      w.clipGradValue(params, c.options.clipValue!);
    }
    return { grads: await Promise.all(params.map((p) => p.grad!.toArray())), total };
  } finally {
    dispose(params);
  }
}

describe('gradient clipping against torch.nn.utils', () => {
  it('the fixture covers 2-, 1- and ∞-norms, no clipping, and value clipping', () => {
    expect(fixture.clipping.map((c) => c.id)).toEqual(['norm2_clipped', 'norm2_unclipped', 'norm_inf_clipped', 'norm1_clipped', 'value']);
  });

  for (const c of fixture.clipping) {
    for (const where of ['webgpu', 'cpu'] as const) {
      it(`${c.id} on ${where}`, async () => {
        const { grads, total } = await runCase(c, where === 'cpu' ? cpuBackend() : gpu);
        if (c.total !== undefined) expectClose([total!], [c.total], 1e-6, 1e-5, `${c.id} total norm`);
        grads.forEach((g, i) => expectClose(g, c.expect[i].data, 1e-6, 1e-5, `${c.id} grad ${i}`));
      });
    }
  }
});

describe('clipGradNorm', () => {
  it('agrees between WebGPU and the CPU reference on odd shapes, skipping params without a gradient', async () => {
    const shapes = [[5, 3], [11], [2, 1, 3, 3], [1]];
    const grads = shapes.map((s, i) => ({ shape: s, data: Array.from(randomData(s.reduce((a, b) => a * b, 1), 40 + i, 3)) }));
    const run = async (backend: Backend) => {
      const params = paramsWith(grads, backend);
      const bare = w.ones([4, 2], { backend, requiresGrad: true });
      const total = w.clipGradNorm([...params, bare], 1.5);
      const out = { total: await total.item(), grads: await Promise.all(params.map((p) => p.grad!.toArray())), bareGrad: bare.grad };
      total.dispose();
      dispose([...params, bare]);
      return out;
    };
    const [g, c] = [await run(gpu), await run(cpuBackend())];
    expect(g.bareGrad).toBeNull();
    expectClose([g.total], [c.total], 1e-5, 1e-5, 'total');
    g.grads.forEach((x, i) => expectClose(x, c.grads[i], 1e-6, 1e-5, `grad ${i}`));
    // After clipping the 2-norm is maxNorm (up to the 1e-6 in the denominator).
    const after = Math.sqrt(g.grads.reduce((s, x) => s + x.reduce((t, v) => t + v * v, 0), 0));
    expect(after).toBeCloseTo(1.5, 4);
  });

  it('reads nothing back: the work stays on the device until the caller reads the norm', () => {
    const params = paramsWith([{ shape: [3, 3], data: Array.from(randomData(9, 7)) }], gpu);
    const read = gpu.read.bind(gpu);
    let reads = 0;
    gpu.read = (s) => {
      reads++;
      return read(s);
    };
    try {
      const submits = gpu.counters.submits;
      w.clipGradNorm(params, 0.1).dispose();
      w.clipGradValue(params, 0.01);
      expect(reads).toBe(0);
      expect(gpu.counters.submits).toBe(submits);
    } finally {
      gpu.read = read;
      dispose(params);
    }
  });

  it('with no gradients returns a zero norm', async () => {
    const p = w.ones([2]);
    const t = w.clipGradNorm([p], 1);
    expect(await t.item()).toBe(0);
    dispose([p, t]);
  });

  it('bad maxNorm, normType or clipValue names the value', () => {
    const p = w.ones([2], { requiresGrad: true });
    expect(() => w.clipGradNorm([p], -1)).toThrow(/clipGradNorm: maxNorm must be a finite number >= 0, got -1/);
    expect(() => w.clipGradNorm([p], NaN)).toThrow(/clipGradNorm: maxNorm must be a finite number >= 0, got NaN/);
    expect(() => w.clipGradNorm([p], 1, { normType: 0 })).toThrow(/clipGradNorm: normType must be a number > 0 or Infinity, got 0/);
    expect(() => w.clipGradValue([p], Infinity)).toThrow(/clipGradValue: clipValue must be a finite number >= 0, got Infinity/);
    p.dispose();
  });
});
