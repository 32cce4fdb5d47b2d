import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { WebGpuBackend } from '../src/index.ts';
import { gpuBackend } from './helpers.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

describe('readback', () => {
  it('reading a value every step creates no buffer after the first read', async () => {
    const x = w.fromArray([1, 2, 3], [3]);
    // The same ops each step (new values, written in place): uniforms come from the cache.
    const loss = async (i: number): Promise<number> => {
      w.assign(x, Float32Array.of(i, 2 * i, 3 * i));
      const y = w.tidy(() => w.sum(w.mul(x, 1)));
      const v = await y.item();
      y.dispose();
      return v;
    };
    expect(await loss(1)).toBe(6);
    // Count every buffer the device creates, not only what the backend reports.
    const device = gpu.device;
    const createBuffer = device.createBuffer.bind(device);
    let created = 0;
    device.createBuffer = (descriptor: GPUBufferDescriptor) => {
      created++;
      return createBuffer(descriptor);
    };
    const reported = gpu.memory().createdBuffers;
    try {
      for (let i = 2; i < 8; i++) expect(await loss(i)).toBe(6 * i);
    } finally {
      device.createBuffer = createBuffer;
    }
    expect(created).toBe(0);
    expect(gpu.memory().createdBuffers).toBe(reported);
  });

  it('reads in flight at once each get their own values', async () => {
    const ts = [1, 2, 3, 4].map((v) => w.fromArray([v, -v, 2 * v], [3]));
    const values = await Promise.all(ts.map((t) => t.toArray()));
    expect(values.map((v) => [...v])).toEqual([1, 2, 3, 4].map((v) => [v, -v, 2 * v]));
  });
});
