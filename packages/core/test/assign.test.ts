import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { Backend, WebGpuBackend } from '../src/index.ts';
import { cpuBackend, gpuBackend, randomData } from './helpers.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

describe('assign', () => {
  const backends = (): [string, Backend][] => [['webgpu', gpu], ['cpu', cpuBackend()]];

  it('copies a tensor into another in place, on both backends, for odd sizes', async () => {
    for (const [name, backend] of backends()) {
      const src = randomData(3 * 7 * 5, 11);
      const target = w.zeros([3, 7, 5], { backend });
      const view = target.view([105]);
      w.assign(target, w.fromArray(src, [3, 7, 5], { backend }));
      expect([...(await target.toArray())], name).toEqual([...src]);
      // Views share the storage, so they see the new values.
      expect([...(await view.toArray())], name).toEqual([...src]);
    }
  });

  it('writes host values', async () => {
    const t = w.zeros([2, 3]);
    w.assign(t, Float32Array.of(1, 2, 3, 4, 5, 6));
    expect([...(await t.toArray())]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('records nothing for autograd and keeps the target a leaf', () => {
    const p = w.zeros([2], { requiresGrad: true });
    w.assign(p, w.fromArray([1, 2], [2], { requiresGrad: true }));
    expect(p.gradFn).toBeNull();
    expect(p.requiresGrad).toBe(true);
  });

  it('rejects other shapes, sizes and backends, changing nothing', async () => {
    const t = w.fromArray([1, 2, 3], [3]);
    expect(() => w.assign(t, w.zeros([1, 3]))).toThrow(/assign: expected a source of shape \[3\], got \[1, 3\]/);
    expect(() => w.assign(t, new Float32Array(4))).toThrow(/assign: target of shape \[3\] holds 3 values, got 4/);
    expect(() => w.assign(t, w.zeros([3], { backend: cpuBackend() }))).toThrow(/assign: source is on cpu/);
    expect([...(await t.toArray())]).toEqual([1, 2, 3]);
  });
});
