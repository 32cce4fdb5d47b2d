import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { WebGpuBackend } from '../src/index.ts';
import { gpuBackend } from './helpers.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

describe('GPU timing of dispatches', () => {
  it('times every dispatch, in order, by kernel and entry point, and leaves results unchanged', async () => {
    // Acquisition asks for 'timestamp-query' wherever the adapter offers it.
    expect(gpu.canTimeDispatches).toBe(gpu.acquired.adapter.features.has('timestamp-query'));
    if (!gpu.canTimeDispatches) {
      expect(() => gpu.startGpuTiming()).toThrow(/lacks the 'timestamp-query' feature/);
      return;
    }
    const x = w.fromArray([1, -2, 3, -4, 5], [5]);
    const before = gpu.counters.dispatches;
    gpu.startGpuTiming();
    expect(() => gpu.startGpuTiming()).toThrow(/already being timed/);
    const y = w.tidy(() => w.sum(w.relu(w.mul(x, 2))));
    const dispatched = gpu.counters.dispatches - before;
    const { times, dropped } = await gpu.stopGpuTiming();
    expect(await y.item()).toBe(18);
    expect(dropped).toBe(0);
    expect(times).toHaveLength(dispatched);
    for (const t of times) {
      expect(t.name).toMatch(/^\w+\.\w+$/);
      expect(Number.isFinite(t.ns) && t.ns >= 0).toBe(true);
    }
    expect(times.some((t) => t.name.startsWith('reduce'))).toBe(true);
    expect(times.some((t) => t.name.startsWith('unary') || t.name.startsWith('binary'))).toBe(true);
    await expect(gpu.stopGpuTiming()).rejects.toThrow(/startGpuTiming was not called/);
    x.dispose();
    y.dispose();
  });

  it('counts the dispatches past its capacity as dropped', async () => {
    if (!gpu.canTimeDispatches) return;
    const x = w.fromArray([1, 2, 3], [3]);
    expect(() => gpu.startGpuTiming({ capacity: 4096 })).toThrow(/capacity must be an integer from 1 to 2048.*got 4096/);
    gpu.startGpuTiming({ capacity: 2 });
    const before = gpu.counters.dispatches;
    const ys = w.tidy(() => [w.mul(x, 2), w.add(x, 1), w.sub(x, 1), w.relu(x)].map((t) => w.keep(t)));
    const dispatched = gpu.counters.dispatches - before;
    const { times, dropped } = await gpu.stopGpuTiming();
    expect(times).toHaveLength(2);
    expect(dropped).toBe(dispatched - 2);
    expect(Array.from(await ys[1].toArray())).toEqual([2, 3, 4]);
    for (const t of [x, ...ys]) t.dispose();
  });
});

describe('GPU timing of passes', () => {
  it('times the passes the backend records anyway: one for a run of dispatches', async () => {
    if (!gpu.canTimeDispatches) return;
    const x = w.fromArray([1, 2, 3, 4], [4]);
    await gpu.sync();
    const before = gpu.counters.dispatches;
    gpu.startGpuTiming({ granularity: 'pass' });
    const y = w.tidy(() => w.relu(w.add(w.mul(x, 2), 1)));
    const dispatched = gpu.counters.dispatches - before;
    const { times } = await gpu.stopGpuTiming();
    expect(dispatched).toBeGreaterThanOrEqual(2);
    expect(times).toHaveLength(1);
    expect(times[0].name).toBe('pass');
    expect(times[0].ns).toBeGreaterThanOrEqual(0);
    expect(Array.from(await y.toArray())).toEqual([3, 5, 7, 9]);
    x.dispose();
    y.dispose();
  });
});
