// From the byte datasets to batches: the endless shuffled training stream, the test subset the
// evaluations use, and the fixed images of the prediction grid.
import { DataLoader, normalize, subset, type Sample, type Transform } from '@welford/data';
import type { TrainingBatch } from '@welford/layers';
import { DATASET_INFO, type PlaygroundConfig } from '../config.ts';
import type { ByteDataset } from '../data/load.ts';

/** Test batches are this large whatever the training batch size. */
const EVAL_BATCH = 100;

/** The dataset's normalization (torchvision's constants), or none. */
export function transformOf(config: PlaygroundConfig): Transform | undefined {
  const n = DATASET_INFO[config.dataset].normalize;
  return n ? normalize(n) : undefined;
}

function firstIndices(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * Training batches without end: epoch after epoch of a seeded shuffle, the last partial batch
 * dropped so that every batch-norm step sees a full batch. The loop takes a few at a time; the
 * generator stays open between takes.
 */
export function* trainStream(train: ByteDataset, config: PlaygroundConfig, firstEpoch: number, onEpoch: (epoch: number) => void): Generator<TrainingBatch> {
  const loader = new DataLoader<Sample>(train, { batchSize: config.batch, shuffle: true, seed: config.seed, dropLast: true, transform: transformOf(config) });
  if (loader.length === 0) throw new Error(`a batch of ${config.batch} is larger than the ${train.length} training samples`);
  for (let epoch = firstEpoch; ; epoch++) {
    onEpoch(epoch);
    yield* loader.batches(epoch) as Iterable<TrainingBatch>;
  }
}

/**
 * `n` batches taken from `stream`. The iterator has no `return`, so a loop that stops early
 * (a pause) leaves the stream where it was.
 */
export function take(stream: Iterator<TrainingBatch>, n: number): Iterable<TrainingBatch> {
  return {
    [Symbol.iterator]: () => {
      let left = n;
      return { next: () => (left-- > 0 ? stream.next() : { done: true, value: undefined }) };
    },
  };
}

/** The first `samples` test samples, normalized, `EVAL_BATCH` at a time. */
export function testBatches(test: ByteDataset, config: PlaygroundConfig): Iterable<TrainingBatch> {
  const set = subset<Sample>(test, firstIndices(Math.min(config.testSamples, test.length)));
  return new DataLoader<Sample>(set, { batchSize: EVAL_BATCH, transform: transformOf(config) }).batches(0) as Iterable<TrainingBatch>;
}

/** The first `n` test samples as one normalized batch (the prediction grid's images); the caller owns the tensors. */
export function previewBatch(test: ByteDataset, config: PlaygroundConfig, n: number): TrainingBatch {
  const set = subset<Sample>(test, firstIndices(Math.min(n, test.length)));
  const loader = new DataLoader<Sample>(set, { batchSize: set.length, transform: transformOf(config) });
  for (const batch of loader.batches(0)) return batch as TrainingBatch;
  throw new Error('the test split is empty');
}
