import { describe, expect, it } from 'vitest';
import { DataLoader, LabeledImages, randomCrop, randomHorizontalFlip, SyntheticShapes, compose, subset, type ClassificationDataset } from '../src/index.ts';
import { cpuBackend, gpuBackend } from './helpers.ts';

/** n one-pixel images whose value and label both say the index (label modulo 7). */
function indexed(n: number): LabeledImages {
  return new LabeledImages({
    shape: [1, 1, 1],
    classes: Array.from({ length: 7 }, (_, i) => `c${i}`),
    pixels: Uint8Array.from({ length: n }, (_, i) => i),
    labels: Uint8Array.from({ length: n }, (_, i) => i % 7),
  });
}

const flat = (batches: number[][]): number[] => batches.flat();

describe('DataLoader', () => {
  it('visits every index exactly once per epoch, shuffled', () => {
    const loader = new DataLoader(indexed(23), { batchSize: 5, shuffle: true, seed: 4, backend: cpuBackend() });
    expect(loader.length).toBe(5);
    for (const epoch of [0, 1, 2]) {
      const batches = [...loader.hostBatches(epoch)].map((b) => b.indices);
      expect(batches.map((b) => b.length)).toEqual([5, 5, 5, 5, 3]);
      expect(flat(batches).sort((a, b) => a - b)).toEqual(Array.from({ length: 23 }, (_, i) => i));
      expect(flat(batches)).not.toEqual(Array.from({ length: 23 }, (_, i) => i));
    }
  });

  it('keeps or drops the last partial batch', () => {
    const keep = new DataLoader(indexed(10), { batchSize: 4 });
    const drop = new DataLoader(indexed(10), { batchSize: 4, dropLast: true });
    expect(keep.length).toBe(3);
    expect(drop.length).toBe(2);
    expect([...keep.hostBatches(0)].map((b) => b.indices)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect([...drop.hostBatches(0)].map((b) => b.indices)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    expect(new DataLoader(indexed(3), { batchSize: 4, dropLast: true }).length).toBe(0);
    expect(new DataLoader(indexed(8), { batchSize: 4, dropLast: true }).length).toBe(2);
  });

  it('repeats an order for the same seed and epoch, and changes it across epochs and seeds', () => {
    const a = new DataLoader(indexed(50), { batchSize: 8, shuffle: true, seed: 11 });
    const b = new DataLoader(indexed(50), { batchSize: 8, shuffle: true, seed: 11 });
    const c = new DataLoader(indexed(50), { batchSize: 8, shuffle: true, seed: 12 });
    expect(a.order(3)).toEqual(b.order(3));
    expect(a.order(0)).not.toEqual(a.order(1));
    expect(a.order(1)).not.toEqual(a.order(2));
    expect(a.order(0)).not.toEqual(c.order(0));
    expect(new DataLoader(indexed(5)).order(9)).toEqual([0, 1, 2, 3, 4]);
  });

  it('iterating runs epoch after epoch', () => {
    const loader = new DataLoader(indexed(6), { batchSize: 6, shuffle: true, seed: 2, backend: cpuBackend() });
    const seen: number[][] = [];
    for (let e = 0; e < 2; e++) {
      for (const batch of loader) {
        seen.push(batch.indices);
        batch.x.dispose();
        batch.y.dispose();
      }
    }
    expect(loader.epoch).toBe(2);
    expect(seen).toEqual([loader.order(0), loader.order(1)]);
  });

  it('builds x [B, C, H, W] and y [B] holding the samples, on the GPU', async () => {
    const set = indexed(9);
    const loader = new DataLoader(set, { batchSize: 4, shuffle: true, seed: 1, backend: await gpuBackend() });
    let count = 0;
    for (const { x, y, indices } of loader.batches(0)) {
      expect([...x.shape]).toEqual([indices.length, 1, 1, 1]);
      expect([...y.shape]).toEqual([indices.length]);
      expect([...(await x.toArray())]).toEqual(indices.map((i) => Math.fround(i / 255)));
      expect([...(await y.toArray())]).toEqual(indices.map((i) => i % 7));
      x.dispose();
      y.dispose();
      count++;
    }
    expect(count).toBe(3);
  });

  it('gives segmentation batches a mask [B, H, W] and transforms image and mask alike', async () => {
    const set = new SyntheticShapes({ length: 5, size: 10, seed: 9 });
    const transform = compose(randomCrop(8, { padding: 1 }), randomHorizontalFlip(0.5));
    const loader = new DataLoader(set, { batchSize: 2, transform, seed: 3, backend: cpuBackend() });
    expect(loader.sampleShape).toEqual([1, 8, 8]);
    const batches = [...loader.batches(0)];
    expect(batches.map((b) => [...b.mask.shape])).toEqual([[2, 8, 8], [2, 8, 8], [1, 8, 8]]);
    const first = batches[0];
    expect([...first.x.shape]).toEqual([2, 1, 8, 8]);
    const masks = await first.mask.toArray();
    expect(masks.every((m) => Number.isInteger(m) && m >= 0 && m <= 3)).toBe(true);
    // The same seed gives the same augmented batch.
    const again = [...new DataLoader(set, { batchSize: 2, transform, seed: 3, backend: cpuBackend() }).hostBatches(0)][0];
    expect(again.x).toEqual(await first.x.toArray());
    for (const b of batches) {
      b.x.dispose();
      b.mask.dispose();
    }
  });

  it('loads a subset in its own order', () => {
    const part = subset(indexed(10), [7, 2, 9]);
    expect(part.length).toBe(3);
    expect(part.get(1).label).toBe(2);
    expect([...new DataLoader(part, { batchSize: 3 }).hostBatches(0)][0].x).toEqual(Float32Array.from([7, 2, 9], (i) => i / 255));
    expect(() => subset(indexed(3), [3])).toThrow(/subset: index 3 is out of range for a dataset of 3 samples/);
  });

  it('checks its options and the samples', () => {
    expect(() => new DataLoader(indexed(3), { batchSize: 0 })).toThrow(/DataLoader: batchSize must be a positive integer, got 0/);
    const liar: ClassificationDataset = { length: 1, shape: [1, 2, 2], classes: ['a'], get: () => ({ image: new Float32Array(3), label: 0 }) };
    expect(() => [...new DataLoader(liar).hostBatches(0)]).toThrow(/sample 0 has 3 values, expected 4 for shape \[1, 2, 2\]/);
  });
});
