import { fromArray, Random, type Backend, type Tensor } from '@welford/core';
import type { Transform } from './augment/transform.ts';
import { checkNumber, checkPositiveInt, shapeString } from './checks.ts';
import { deriveSeed, permutation } from './random.ts';
import { isMasked, type ImageDataset, type ImageShape, type MaskedImage, type Sample } from './types.ts';

export interface DataLoaderOptions {
  /** Samples per batch (default 1, as PyTorch). */
  batchSize?: number;
  /** Visit the samples in a new seeded random order each epoch (default false: in index order). */
  shuffle?: boolean;
  /** Seed of the shuffling and of the transforms' randomness (default 0). */
  seed?: number;
  /** Drop the last batch when it is partial (default false: keep it, as PyTorch's drop_last=False). */
  dropLast?: boolean;
  /** Per-sample transform (augmentation) run on the host before upload. */
  transform?: Transform;
  /** Backend of the batch tensors (default: the current one). */
  backend?: Backend;
}

/** A classification batch: images [B, C, H, W] and class indices [B] (as floats, what crossEntropy takes). */
export interface ClassificationBatch {
  x: Tensor;
  y: Tensor;
  /** The dataset indices of the batch's samples, in batch order. */
  indices: number[];
}

/** A segmentation batch: images [B, C, H, W] and per-pixel class ids [B, H, W] (as floats). */
export interface SegmentationBatch {
  x: Tensor;
  mask: Tensor;
  indices: number[];
}

export type Batch<S extends Sample> = S extends MaskedImage ? SegmentationBatch : ClassificationBatch;

/** A batch still on the host: what the tensors of a batch are made from. */
export interface HostBatch {
  /** Row-major images of shape `xShape`. */
  x: Float32Array;
  xShape: [number, number, number, number];
  /** Labels [B] for classification datasets, masks [B, H, W] for segmentation ones. */
  targets: Float32Array;
  targetShape: number[];
  masked: boolean;
  indices: number[];
}

/**
 * torch.utils.data.DataLoader for in-memory datasets: batches of `batchSize` samples, in index
 * order or (with `shuffle`) a seeded random order that changes every epoch; the same seed gives
 * the same orders and the same augmentations. Iterating the loader (`for (const b of loader)`)
 * runs the next epoch (0, 1, 2, ...); `batches(epoch)` runs a chosen one. Each batch's tensors
 * are new and belong to the caller: dispose them, or create them inside `tidy`.
 */
export class DataLoader<S extends Sample = Sample> implements Iterable<Batch<S>> {
  readonly dataset: ImageDataset<S>;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** The [C, H, W] of the samples after the transform. */
  readonly sampleShape: ImageShape;
  /** The epoch the next `for ... of` runs; set it to resume (as DistributedSampler.set_epoch). */
  epoch = 0;
  private readonly transform: Transform | null;
  private readonly backend: Backend | undefined;

  constructor(dataset: ImageDataset<S>, options: DataLoaderOptions = {}) {
    this.dataset = dataset;
    this.batchSize = options.batchSize ?? 1;
    checkPositiveInt('DataLoader', 'batchSize', this.batchSize);
    this.shuffle = options.shuffle ?? false;
    this.seed = options.seed ?? 0;
    checkNumber('DataLoader', 'seed', this.seed);
    this.dropLast = options.dropLast ?? false;
    this.transform = options.transform ?? null;
    this.backend = options.backend;
    this.sampleShape = this.transform ? this.transform.outputShape(dataset.shape) : dataset.shape;
  }

  /** Number of batches in an epoch. */
  get length(): number {
    const n = this.dataset.length / this.batchSize;
    return this.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** The order in which epoch `epoch` visits the dataset's indices (before dropping a partial batch). */
  order(epoch: number): number[] {
    if (!this.shuffle) return Array.from({ length: this.dataset.length }, (_, i) => i);
    return permutation(this.dataset.length, new Random(deriveSeed(this.seed, epoch, 0)));
  }

  [Symbol.iterator](): Iterator<Batch<S>> {
    return this.batches(this.epoch++);
  }

  /** The batches of epoch `epoch`, as tensors on the loader's backend. */
  *batches(epoch: number): Generator<Batch<S>> {
    for (const host of this.hostBatches(epoch)) {
      const x = fromArray(host.x, host.xShape, { backend: this.backend });
      const targets = fromArray(host.targets, host.targetShape, { backend: this.backend });
      yield (host.masked ? { x, mask: targets, indices: host.indices } : { x, y: targets, indices: host.indices }) as Batch<S>;
    }
  }

  /** The batches of epoch `epoch` on the host, transformed: what `batches` uploads. */
  *hostBatches(epoch: number): Generator<HostBatch> {
    const order = this.order(epoch);
    const rng = new Random(deriveSeed(this.seed, epoch, 1));
    const [c, h, w] = this.sampleShape;
    const size = c * h * w;
    for (let b = 0; b < this.length; b++) {
      const indices = order.slice(b * this.batchSize, (b + 1) * this.batchSize);
      const x = new Float32Array(indices.length * size);
      let targets: Float32Array | null = null;
      let masked = false;
      for (let k = 0; k < indices.length; k++) {
        const index = indices[k];
        const raw = this.dataset.get(index);
        const sample = this.transform ? this.transform.apply(raw, this.dataset.shape, rng) : raw;
        if (sample.image.length !== size) {
          throw new Error(`DataLoader: sample ${index} has ${sample.image.length} values, expected ${size} for shape ${shapeString(this.sampleShape)}`);
        }
        x.set(sample.image, k * size);
        masked = isMasked(sample);
        if (isMasked(sample)) {
          if (sample.mask.length !== h * w) throw new Error(`DataLoader: sample ${index} has a mask of ${sample.mask.length} values, expected ${h * w} for ${h}x${w} images`);
          targets ??= new Float32Array(indices.length * h * w);
          targets.set(sample.mask, k * h * w);
        } else {
          targets ??= new Float32Array(indices.length);
          targets[k] = sample.label;
        }
      }
      const B = indices.length;
      yield { x, xShape: [B, c, h, w], targets: targets ?? new Float32Array(0), targetShape: masked ? [B, h, w] : [B], masked, indices };
    }
  }
}
