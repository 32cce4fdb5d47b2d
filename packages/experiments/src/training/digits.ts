// The digits as experiments train on them: normalized with MNIST's mean and std, optionally
// cut to a number of samples (the first n of a seeded permutation, so every class appears).
import { DataLoader, normalize, permutation, subset, type ClassificationBatch, type ClassificationDataset, type Transform } from '@welford/data';
import { Random } from '@welford/core';

/** MNIST's per-channel statistics (torchvision's usual Normalize). */
export const MNIST_NORMALIZATION = { mean: [0.1307], std: [0.3081] } as const;

/** The normalization every experiment applies to the [0, 1] digits. */
export const normalizeDigits: Transform = normalize(MNIST_NORMALIZATION);

/** `n` samples of `dataset` chosen by a seeded permutation (all of it when n >= its length). */
export function sampleOf(dataset: ClassificationDataset, n: number, seed: number): ClassificationDataset {
  if (n >= dataset.length) return dataset;
  return subset(dataset, permutation(dataset.length, new Random(seed)).slice(0, n));
}

/** Batches of normalized digits in a seeded shuffled order, epoch after epoch, `count` of them. */
export function* digitBatches(dataset: ClassificationDataset, batchSize: number, count: number, seed: number): Generator<ClassificationBatch> {
  const loader = new DataLoader(dataset, { batchSize, shuffle: true, seed, dropLast: dataset.length >= batchSize, transform: normalizeDigits });
  let produced = 0;
  for (let epoch = 0; produced < count; epoch++) {
    for (const batch of loader.batches(epoch)) {
      if (produced++ >= count) {
        batch.x.dispose();
        batch.y.dispose();
        return;
      }
      yield batch;
    }
  }
}

/** The test batches of `dataset`, normalized, in index order. */
export function evalBatches(dataset: ClassificationDataset, batchSize = 100): Iterable<ClassificationBatch> {
  return new DataLoader(dataset, { batchSize, transform: normalizeDigits });
}
