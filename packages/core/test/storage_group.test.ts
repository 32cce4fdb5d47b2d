import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { Backend, GpuStorage, Storage, StorageGroup, WebGpuBackend } from '../src/index.ts';
import { cpuBackend, expectClose, gpuBackend, randomData } from './helpers.ts';

// Odd sizes, an empty part, and two parts of equal size (2 and 5).
const SIZES = [3, 0, 70, 1, 257, 70];
const SENTINEL = -7;

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
});

function freeGroup(backend: Backend, group: StorageGroup): void {
  backend.free(group.whole);
  for (const p of group.parts) backend.free(p);
}

/** Distinct values for part i, so that a part read from the wrong place shows. */
function partValues(i: number, size: number): Float32Array {
  return Float32Array.from({ length: size }, (_, j) => 1000 * (i + 1) + j);
}

async function readAll(backend: Backend, storages: readonly Storage[]): Promise<Float32Array[]> {
  return Promise.all(storages.map((s) => backend.read(s)));
}

describe.each(['webgpu', 'cpu'] as const)('storage groups on %s', (kind) => {
  const backend = (): Backend => (kind === 'webgpu' ? gpu : cpuBackend());

  it('parts lie at their offsets in the whole, without overlap', async () => {
    const b = backend();
    const group = b.allocGroup(SIZES);
    const { whole, parts, offsets } = group;
    expect(parts.map((p) => p.size)).toEqual(SIZES);
    expect(offsets).toHaveLength(SIZES.length);
    for (let i = 0; i < SIZES.length; i++) {
      if (i > 0) expect(offsets[i], `part ${i} starts after part ${i - 1}`).toBeGreaterThanOrEqual(offsets[i - 1] + SIZES[i - 1]);
      expect(offsets[i] + SIZES[i]).toBeLessThanOrEqual(whole.size);
      if (kind === 'webgpu') {
        const bytes = (parts[i] as GpuStorage).offset ?? 0;
        expect(bytes).toBe(offsets[i] * 4);
        expect(bytes % gpu.device.limits.minStorageBufferOffsetAlignment).toBe(0);
        expect((parts[i] as GpuStorage).buffer).toBe((whole as GpuStorage).buffer);
      }
    }
    // Padding keeps the sentinel: each part writes exactly its own floats.
    b.write(whole, new Float32Array(whole.size).fill(SENTINEL));
    parts.forEach((p, i) => b.write(p, partValues(i, p.size)));
    const back = await readAll(b, parts);
    back.forEach((got, i) => expect(Array.from(got), `part ${i}`).toEqual(Array.from(partValues(i, SIZES[i]))));
    const all = await b.read(whole);
    const want = new Float32Array(whole.size).fill(SENTINEL);
    offsets.forEach((o, i) => want.set(partValues(i, SIZES[i]), o));
    expect(Array.from(all)).toEqual(Array.from(want));
    // And the other way: writing the whole changes what the parts read.
    const fresh = randomData(whole.size, 3);
    b.write(whole, fresh);
    (await readAll(b, parts)).forEach((got, i) => expect(Array.from(got), `part ${i}`).toEqual(Array.from(fresh.subarray(offsets[i], offsets[i] + SIZES[i]))));
    freeGroup(b, group);
  });

  it('kernels read and write parts as tensors of their own', async () => {
    const b = backend();
    const group = b.allocGroup(SIZES);
    const [p2, p5] = [group.parts[2], group.parts[5]];
    const a = randomData(70, 1);
    const c = randomData(70, 2);
    const d = randomData(70, 4);
    b.write(group.whole, new Float32Array(group.whole.size).fill(SENTINEL));
    b.write(p2, a);
    b.write(p5, c);
    const ta = w.Tensor.fromStorage([70], b, p2);
    const tc = w.Tensor.fromStorage([7, 10], b, p5);
    const td = w.fromArray(d, [70], { backend: b });
    const [sum, prod, scaled] = [w.add(ta, td), w.mul(ta, tc.view([70])), w.mul(w.Tensor.fromStorage([group.whole.size], b, group.whole), 2)];
    expectClose(await sum.toArray(), a.map((v, i) => v + d[i]), 1e-6, 1e-6, 'a + d');
    expectClose(await prod.toArray(), a.map((v, i) => v * c[i]), 1e-6, 1e-6, 'a * c');
    const twice = await scaled.toArray();
    expectClose(twice.subarray(group.offsets[2], group.offsets[2] + 70), a.map((v) => 2 * v), 1e-6, 1e-6, 'whole * 2 at part 2');
    expectClose(twice.subarray(group.offsets[5], group.offsets[5] + 70), c.map((v) => 2 * v), 1e-6, 1e-6, 'whole * 2 at part 5');

    // A kernel writing into a part (assign runs a copy kernel on the GPU) leaves its neighbours alone.
    w.assign(ta, td);
    expect(Array.from(await b.read(p2))).toEqual(Array.from(d));
    expect(Array.from(await b.read(p5))).toEqual(Array.from(c));
    // From one part into another of the same group: WebGPU forbids a dispatch to read a buffer
    // it writes, whatever the ranges, so the backend reads the source from a copy.
    const created = b.memory().createdBuffers;
    w.assign(ta, tc.view([70]));
    expect(Array.from(await b.read(p2))).toEqual(Array.from(c));
    expect(Array.from(await b.read(p5))).toEqual(Array.from(c));
    // The copy went back to the pool: doing it again creates nothing.
    w.assign(ta, td);
    w.assign(ta, tc.view([70]));
    expect(Array.from(await b.read(p2))).toEqual(Array.from(c));
    expect(b.memory().createdBuffers - created).toBeLessThanOrEqual(1);
    const whole = await b.read(group.whole);
    for (let i = 0; i < whole.length; i++) {
      const inPart = group.offsets.some((o, k) => i >= o && i < o + SIZES[k]);
      if (!inPart) expect(whole[i], `padding at ${i}`).toBe(SENTINEL);
    }
    for (const t of [sum, prod, scaled, td]) t.dispose();
    freeGroup(b, group);
  });

  it('two parts of equal size bound in turn to the same kernel and output give their own values', async () => {
    const b = backend();
    const group = b.allocGroup(SIZES);
    const [p2, p5] = [group.parts[2], group.parts[5]];
    b.write(p2, partValues(2, 70));
    b.write(p5, partValues(5, 70));
    const other = b.alloc(70);
    const out = b.alloc(70);
    b.write(other, randomData(70, 5));
    const add = w.getOp<Record<string, never>>('add');
    const shape = [70];
    const results: Float32Array[] = [];
    for (const part of [p2, p5, p2]) {
      b.execute(add, [{ shape, storage: part }, { shape, storage: other }], { shape, storage: out }, {});
      results.push(await b.read(out));
    }
    const o = await b.read(other);
    expectClose(results[0], partValues(2, 70).map((v, i) => v + o[i]), 1e-6, 1e-6, 'part 2 + other');
    expectClose(results[1], partValues(5, 70).map((v, i) => v + o[i]), 1e-6, 1e-6, 'part 5 + other');
    expectClose(results[2], results[0], 0, 0, 'part 2 again');
    b.free(other);
    b.free(out);
    freeGroup(b, group);
  });

  it('the allocation goes back once the whole and every part are freed', async () => {
    const b = backend();
    const before = b.memory();
    const group = b.allocGroup(SIZES);
    const during = b.memory();
    expect(during.liveBuffers).toBe(before.liveBuffers + SIZES.length + 1);
    expect(during.liveBytes).toBe(before.liveBytes + group.whole.size * 4);
    // Freed in any order, and twice: the group stays counted until its last storage goes.
    b.free(group.whole);
    b.free(group.whole);
    for (const p of group.parts.slice(0, -1)) b.free(p);
    expect(b.memory().liveBuffers).toBe(before.liveBuffers + 1);
    expect(b.memory().liveBytes).toBe(during.liveBytes);
    b.free(group.parts[SIZES.length - 1]);
    b.free(group.parts[0]);
    expect(b.memory().liveBuffers).toBe(before.liveBuffers);
    expect(b.memory().liveBytes).toBe(before.liveBytes);
  });

  it('an empty list of sizes gives an empty group; a negative size is refused', async () => {
    const b = backend();
    const group = b.allocGroup([]);
    expect(group.parts).toEqual([]);
    expect(group.whole.size).toBe(0);
    expect(Array.from(await b.read(group.whole))).toEqual([]);
    freeGroup(b, group);
    expect(() => b.allocGroup([3, -1])).toThrow(/allocGroup: sizes are counts of floats, got -1/);
  });

  it('a group larger than one buffer may hold is an AllocationError naming the site', () => {
    const b = backend();
    const before = b.memory();
    // WebGPU: over the device's buffer limit in total, though each part fits; the CPU: past V8's array limit.
    const each = kind === 'webgpu' ? Math.floor(gpu.maxBufferBytes / 8) + 64 : 2 ** 40;
    const site = { op: 'SGD (parameters)', shape: [each * 4] };
    let error: unknown;
    try {
      b.allocGroup([each, each, each, each], site);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(w.AllocationError);
    expect((error as w.AllocationError).site).toBe(site);
    expect((error as Error).message).toMatch(/^SGD \(parameters\): the tensor of shape .* needs .*nothing was allocated/);
    expect(b.memory()).toEqual(before);
  });
});

describe('storage groups on webgpu', () => {
  it('copies between a part and a storage of its own', async () => {
    const group = gpu.allocGroup(SIZES);
    gpu.write(group.whole, new Float32Array(group.whole.size).fill(SENTINEL));
    const plain = gpu.alloc(257);
    const values = randomData(257, 6);
    gpu.write(plain, values);
    gpu.copy(plain, group.parts[4], 257);
    expect(Array.from(await gpu.read(group.parts[4]))).toEqual(Array.from(values));
    gpu.write(group.parts[2], partValues(2, 70));
    const into = gpu.alloc(70);
    gpu.copy(group.parts[2], into, 70);
    expect(Array.from(await gpu.read(into))).toEqual(Array.from(partValues(2, 70)));
    // Nothing else of the whole moved.
    const whole = await gpu.read(group.whole);
    const want = new Float32Array(group.whole.size).fill(SENTINEL);
    want.set(values, group.offsets[4]);
    want.set(partValues(2, 70), group.offsets[2]);
    expect(Array.from(whole)).toEqual(Array.from(want));
    gpu.free(plain);
    gpu.free(into);
    freeGroup(gpu, group);
  });

  it('deferred and held writes land at the part', async () => {
    const group = gpu.allocGroup(SIZES);
    gpu.write(group.whole, new Float32Array(group.whole.size).fill(SENTINEL));
    const deferred = gpu.deferWrite([group.parts[5]]);
    // Written while work is held: queued with its offset, after the hold.
    gpu.write(group.parts[2], partValues(2, 70));
    deferred.write([partValues(5, 70)]);
    const whole = await gpu.read(group.whole);
    const want = new Float32Array(group.whole.size).fill(SENTINEL);
    want.set(partValues(2, 70), group.offsets[2]);
    want.set(partValues(5, 70), group.offsets[5]);
    expect(Array.from(whole)).toEqual(Array.from(want));
    freeGroup(gpu, group);
  });

  it('the buffer is pooled only when the last storage is freed, then reused', async () => {
    // An empty pool: a buffer released too early would be the one the next group gets.
    gpu.trim();
    const first = gpu.allocGroup(SIZES);
    const buffer = (first.whole as GpuStorage).buffer;
    for (const s of [first.whole, ...first.parts.slice(1)]) gpu.free(s);
    // One part is still live: a new group must not get its buffer.
    const second = gpu.allocGroup(SIZES);
    expect((second.whole as GpuStorage).buffer).not.toBe(buffer);
    gpu.write(first.parts[0], Float32Array.of(1, 2, 3));
    gpu.write(second.whole, new Float32Array(second.whole.size).fill(SENTINEL));
    expect(Array.from(await gpu.read(first.parts[0]))).toEqual([1, 2, 3]);
    gpu.free(first.parts[0]);
    freeGroup(gpu, second);
    // Both buffers are pooled now: allocating the group again creates none.
    const created = gpu.memory().createdBuffers;
    const pooled = gpu.memory().pooledBuffers;
    const third = gpu.allocGroup(SIZES);
    expect(gpu.memory().createdBuffers).toBe(created);
    expect(gpu.memory().pooledBuffers).toBe(pooled - 1);
    freeGroup(gpu, third);
    expect(gpu.memory().pooledBuffers).toBe(pooled);
  });
});
