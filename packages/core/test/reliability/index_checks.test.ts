// Class labels and gather indices out of range are an error on every backend, with the same
// message: the CPU reference rejects them at the call; the GPU checks them beside the kernel
// and the next read throws, so that no step waits for the check.
import { describe, expect, it } from 'vitest';
import { CpuBackend, crossEntropy, fromArray, gather, memory, mean, type Backend } from '../../src/index.ts';
import { gpuBackend, use } from '../helpers.ts';

const logitsData = [0.1, 0.2, 0.3, 1, 0, -1, 0.5, 0.5, 0.5, 2, 1, 0];

/** The error crossEntropy on `labels` gives on `backend` (GPU: at the read that follows), or null. */
async function crossEntropyError(backend: Backend, labels: number[]): Promise<string | null> {
  use(backend);
  const logits = fromArray(logitsData, [4, 3]);
  const target = fromArray(labels);
  try {
    const loss = crossEntropy(logits, target);
    try {
      await loss.item();
    } finally {
      loss.dispose();
    }
    return null;
  } catch (e) {
    return (e as Error).message;
  } finally {
    logits.dispose();
    target.dispose();
  }
}

describe('index checks on every backend', () => {
  it.each([
    ['a label past the classes', [0, 1, 3, 2], 3],
    ['a negative label', [0, -1, 2, 2], -1],
    ['a label that is not an integer', [0, 1.5, 2, 2], 1.5],
    ['a NaN label', [0, 1, NaN, 2], NaN],
  ])('crossEntropy: %s is rejected with the same message on the CPU and on the GPU', async (_what, labels, bad) => {
    const want = `crossEntropy: target ${bad} is not a class index (expected an integer in [0, 2])`;
    expect(await crossEntropyError(new CpuBackend(), labels)).toBe(want);
    const gpu = await crossEntropyError(await gpuBackend(), labels);
    expect(gpu?.split('\n')[0]).toBe(want);
    expect(gpu).toContain('(found on the GPU after the call: 1 bad value since the previous read)');
    // Reported once: the next good step reads fine.
    expect(await crossEntropyError(await gpuBackend(), [0, 1, 2, 2])).toBeNull();
  });

  it('gather: an index out of range is rejected with the same message on both backends', async () => {
    const want = 'gather: index 5 is out of range for dimension 1 of size 3 (expected an integer in [0, 2])';
    for (const backend of [new CpuBackend(), await gpuBackend()]) {
      use(backend);
      const x = fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
      const index = fromArray([0, 5, 2, 1], [2, 2]);
      let message: string | null = null;
      try {
        const out = gather(x, 1, index);
        await out.toArray().finally(() => out.dispose());
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message?.split('\n')[0], backend.description).toBe(want);
      x.dispose();
      index.dispose();
    }
  });

  it('the GPU check counts every bad value of an odd-sized batch, across workgroups, as the CPU reference would', async () => {
    use(await gpuBackend());
    const n = 777;
    const labels = Array.from({ length: n }, (_, i) => i % 3);
    const bad = [0, 1, 255, 256, 257, 400, 511, 512, 600, 700, 774, 775, 776];
    bad.forEach((at, k) => (labels[at] = [3, -1, 0.5, NaN, 1e9][k % 5]));
    const isClass = (v: number): boolean => Number.isInteger(v) && v >= 0 && v < 3;
    expect(labels.filter((v) => !isClass(v))).toHaveLength(bad.length);
    const logits = fromArray(new Float32Array(n * 3), [n, 3]);
    const target = fromArray(labels);
    const loss = crossEntropy(logits, target);
    await expect(loss.item()).rejects.toThrow(`\n(found on the GPU after the call: ${bad.length} bad values since the previous read)`);
    for (const t of [logits, target, loss]) t.dispose();
  });

  it('on the GPU the check costs no wait: a bad label is found by a later read, and counts every bad value since the last', async () => {
    const gpu = await gpuBackend();
    use(gpu);
    const live = memory().liveBuffers;
    const logits = fromArray(logitsData, [4, 3]);
    const good = fromArray([0, 1, 2, 0]);
    const bad = fromArray([7, 1, 9, 0]);
    // Three steps, one with two bad labels, recorded without reading anything.
    const losses = [crossEntropy(logits, good), crossEntropy(logits, bad), crossEntropy(logits, good)];
    const values = fromArray([1, 2, 3]);
    const total = mean(values);
    await expect(total.item()).rejects.toThrow(/^crossEntropy: target (7|9) is not a class index \(expected an integer in \[0, 2\]\)\n\(found on the GPU after the call: 2 bad values since the previous read\)$/);
    await expect(total.item()).resolves.toBe(2);
    await expect(gpu.sync()).resolves.toBeUndefined();
    // sync is a read point too.
    crossEntropy(logits, bad).dispose();
    await expect(gpu.sync()).rejects.toThrow(/^crossEntropy: target (7|9) is not a class index/);
    for (const t of [...losses, total, values, logits, good, bad]) t.dispose();
    expect(memory().liveBuffers).toBe(live);
  });
});
