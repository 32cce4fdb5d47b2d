// From byte datasets to training and test batches: the limits, the augmentations, the
// normalization and Mixup of a configuration (browser-safe: Node and the page share it).
import { Random, type Tensor } from '@welford/core';
import { compose, DataLoader, deriveSeed, LabeledImages, MaskedImages, mixup, normalize, randomCrop, randomHorizontalFlip, type Sample, type Transform } from '@welford/data';
import { DATASET_INFO, type TrainConfig } from './config.ts';

/** A dataset as bytes in memory: what the Node loaders return and what a page unpacks. */
export type ByteDataset = LabeledImages | MaskedImages;

/** The two splits a run uses. */
export interface TrainingData {
  train: ByteDataset;
  test: ByteDataset;
}

/** A training batch; Mixup adds the partners' labels and the mixing weight. */
export interface RunBatch {
  x: Tensor;
  y?: Tensor;
  mask?: Tensor;
  /** Mixup: the partners' labels and λ (the loss is λ·CE(y) + (1 − λ)·CE(yB)). */
  yB?: Tensor;
  lambda?: number;
}

/** Mixup's α: λ ~ Beta(α, α); 0.2 is the paper's choice for ImageNet-scale training. */
export const MIXUP_ALPHA = 0.2;
/** Test batches are always this size, so `welford eval` repeats the run's evaluation exactly. */
export const EVAL_BATCH = 100;

/** The first `limit` samples of a byte dataset (a copy-free view), or the dataset itself. */
export function firstSamples<T extends ByteDataset>(set: T, limit: number | null): T {
  if (limit === null || limit >= set.length) return set;
  const [c, h, w] = set.shape;
  const data = { shape: set.shape, classes: set.classes, pixels: set.pixels.subarray(0, limit * c * h * w) };
  if (set.kind === 'labels') return new LabeledImages({ ...data, labels: set.labels.subarray(0, limit) }) as T;
  return new MaskedImages({ ...data, masks: set.masks.subarray(0, limit * h * w) }) as T;
}

/** The run's training split after `--train-limit`, and its test split after `--test-limit`. */
export function limitedData(config: TrainConfig, data: TrainingData): TrainingData {
  return { train: firstSamples(data.train, config.trainLimit), test: firstSamples(data.test, config.testLimit) };
}

function normalization(config: TrainConfig): Transform[] {
  const n = DATASET_INFO[config.dataset].normalize;
  return n ? [normalize(n)] : [];
}

function transformOf(parts: Transform[]): Transform | undefined {
  return parts.length === 0 ? undefined : compose(...parts);
}

/**
 * The training batches of a run: shuffled with the run's seed, augmented (crop pads by an eighth
 * of the side, torchvision's 4 of 32, and cuts back to the original size; flip mirrors half the
 * images; both move masks exactly), normalized, and with Mixup mixed on the device. The last
 * partial batch is dropped so that every batch-norm step sees a full batch.
 */
export function trainBatches(config: TrainConfig, train: ByteDataset): { batchesPerEpoch: number; batches: (epoch: number) => Iterable<RunBatch> } {
  const [, h, w] = train.shape;
  const augment: Transform[] = [];
  if (config.augment.includes('crop')) augment.push(randomCrop([h, w], { padding: Math.max(1, Math.round(Math.min(h, w) / 8)) }));
  if (config.augment.includes('flip')) augment.push(randomHorizontalFlip(0.5));
  const loader = new DataLoader<Sample>(train, { batchSize: config.batch, shuffle: true, seed: config.seed, dropLast: true, transform: transformOf([...augment, ...normalization(config)]) });
  const plain = (epoch: number): Iterable<RunBatch> => loader.batches(epoch) as Iterable<RunBatch>;
  if (!config.augment.includes('mixup')) return { batchesPerEpoch: loader.length, batches: plain };
  return { batchesPerEpoch: loader.length, batches: (epoch) => mixedBatches(plain(epoch), new Random(deriveSeed(config.seed, epoch, 2))) };
}

/**
 * Mixup over a stream of labeled batches. The loop disposes x and y of the batches it takes;
 * the original images and labels are freed here once mixed, and each batch's yB when the
 * next batch is asked for (or the loop ends), by which time its step has used it.
 */
function* mixedBatches(batches: Iterable<RunBatch>, rng: Random): Generator<RunBatch> {
  let previous: Tensor | null = null;
  try {
    for (const batch of batches) {
      previous?.dispose();
      previous = null;
      let mixed;
      try {
        mixed = mixup({ x: batch.x, y: batch.y! }, MIXUP_ALPHA, rng);
      } finally {
        batch.x.dispose();
      }
      previous = mixed.yB;
      // yA is a view of y: the loop disposes it, and y's own handle is released here.
      batch.y!.dispose();
      yield { x: mixed.x, y: mixed.yA, yB: mixed.yB, lambda: mixed.lambda };
    }
  } finally {
    previous?.dispose();
  }
}

/** The test batches, in order, normalized as in training, `EVAL_BATCH` at a time. */
export function testBatches(config: TrainConfig, test: ByteDataset): Iterable<RunBatch> {
  return new DataLoader<Sample>(test, { batchSize: EVAL_BATCH, transform: transformOf(normalization(config)) }).batches(0) as Iterable<RunBatch>;
}
