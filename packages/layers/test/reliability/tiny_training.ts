// A small CNN and seeded batches for the reliability tests: quick on a software adapter, but
// every part of a real step (conv, batch norm, ReLU, pooling, cross-entropy, SGD) is there.
import { fromArray, manualSeed, Random } from '@welford/core';
import { smallCnn, type SmallCnn, type TrainingBatch } from '../../src/index.ts';

export const IMAGE = 8;
export const CLASSES = 4;

/** A two-stage small CNN with batch norm, seeded. */
export function tinyCnn(seed = 1): SmallCnn {
  manualSeed(seed);
  return smallCnn({ depth: 2, width: 4, classes: CLASSES, norm: 'batch' });
}

/**
 * Batches of `size` images whose class is the quadrant with the bright blob, made as fit asks
 * for them (it disposes each after its step). `badLabelAt` gives that batch label CLASSES.
 */
export function blobBatches(count: number, size: number, seed: number, badLabelAt = -1): () => Generator<TrainingBatch> {
  return function* () {
    const rng = new Random(seed);
    for (let b = 0; b < count; b++) {
      const x = new Float32Array(size * IMAGE * IMAGE);
      const y = new Float32Array(size);
      for (let i = 0; i < size; i++) {
        const c = Math.floor(rng.uniform() * CLASSES);
        y[i] = c;
        const [r0, c0] = [(c >> 1) * (IMAGE / 2), (c & 1) * (IMAGE / 2)];
        for (let p = 0; p < IMAGE * IMAGE; p++) {
          const [r, col] = [Math.floor(p / IMAGE), p % IMAGE];
          const inside = r >= r0 && r < r0 + IMAGE / 2 && col >= c0 && col < c0 + IMAGE / 2;
          x[i * IMAGE * IMAGE + p] = (inside ? 1 : 0) + rng.normal() * 0.3;
        }
      }
      if (b === badLabelAt) y[0] = CLASSES;
      yield { x: fromArray(x, [size, 1, IMAGE, IMAGE]), y: fromArray(y, [size]) };
    }
  };
}
