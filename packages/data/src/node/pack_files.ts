import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabeledImages, MaskedImages } from '../byte_images.ts';
import { packDataset } from '../pack.ts';
import { quantizeDataset } from '../quantize.ts';
import { SyntheticShapes } from '../synthetic_shapes.ts';
import { loadFashionMnist } from './fashion_mnist.ts';
import { loadMnistDigits } from './mnist_digits.ts';

export interface PackFilesOptions {
  /** Keep at most this many samples of each split (the first ones); default: all. */
  limit?: number;
  /** Number of synthetic-shapes images to pack per split (default 1000; seeds 1 and 2). */
  shapes?: number;
}

/** The first `limit` samples of byte images (a copy-free view). */
function head<T extends LabeledImages | MaskedImages>(set: T, limit: number | undefined): T {
  if (limit === undefined || limit >= set.length) return set;
  const size = set.shape[0] * set.shape[1] * set.shape[2];
  const data = { shape: set.shape, classes: set.classes, pixels: set.pixels.subarray(0, limit * size) };
  if (set.kind === 'labels') return new LabeledImages({ ...data, labels: set.labels.subarray(0, limit) }) as T;
  return new MaskedImages({ ...data, masks: set.masks.subarray(0, limit * set.shape[1] * set.shape[2]) }) as T;
}

/**
 * Writes every dataset in the packed format (see pack.ts) to `outDir`, for a browser to fetch:
 * fashion-mnist-{train,test}.wfds, mnist-digits-{train,test}.wfds and
 * synthetic-shapes-{train,test}.wfds. Returns the paths written with their sizes in bytes.
 */
export function writePackedDatasets(outDir: string, options: PackFilesOptions = {}): { path: string; bytes: number }[] {
  mkdirSync(outDir, { recursive: true });
  const shapes = options.shapes ?? 1000;
  const sets: [string, LabeledImages | MaskedImages][] = [
    ['fashion-mnist-train', loadFashionMnist({ split: 'train' })],
    ['fashion-mnist-test', loadFashionMnist({ split: 'test' })],
    ['mnist-digits-train', loadMnistDigits({ split: 'train' })],
    ['mnist-digits-test', loadMnistDigits({ split: 'test' })],
    ['synthetic-shapes-train', quantizeDataset(new SyntheticShapes({ length: shapes, seed: 1 }))],
    ['synthetic-shapes-test', quantizeDataset(new SyntheticShapes({ length: shapes, seed: 2 }))],
  ];
  return sets.map(([name, set]) => {
    const bytes = packDataset(head(set, options.limit));
    const path = join(outDir, `${name}.wfds`);
    writeFileSync(path, bytes);
    return { path, bytes: bytes.length };
  });
}
