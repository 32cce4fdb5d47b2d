import { join } from 'node:path';
import { LabeledImages, type ByteImagesOptions } from '../byte_images.ts';
import type { Normalization } from '../types.ts';
import { firstExisting, readIdxFile } from './idx_file.ts';

/** Where Debian's dataset-fashion-mnist package puts the IDX files. */
export const FASHION_MNIST_DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';

/** Fashion-MNIST's ten classes, by label (torchvision's names). */
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

export interface FashionMnistOptions {
  /** 'train' (60000 images) or 'test' (10000); default 'train'. */
  split?: 'train' | 'test';
  /** Folder of the IDX files (gzipped or not); default $WELFORD_FASHION_MNIST_DIR, else Debian's. */
  dir?: string;
  /** Per-channel (x − mean) / std on the [0, 1] intensities (default: none). */
  normalize?: Normalization;
}

/**
 * Fashion-MNIST (Zalando, 2017): 28×28 grey images of clothing in ten classes, 60000 for
 * training and 10000 for testing, read from the IDX files of Debian's `dataset-fashion-mnist`
 * package (`apt-get install dataset-fashion-mnist`).
 */
export function loadFashionMnist(options: FashionMnistOptions = {}): LabeledImages {
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test') throw new Error(`loadFashionMnist: split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  const dir = options.dir ?? process.env.WELFORD_FASHION_MNIST_DIR ?? FASHION_MNIST_DEBIAN_DIR;
  const prefix = split === 'train' ? 'train' : 't10k';
  const images = readIdxFile(locate(dir, `${prefix}-images-idx3-ubyte`));
  const labels = readIdxFile(locate(dir, `${prefix}-labels-idx1-ubyte`));
  const [n, h, w] = images.dims;
  if (images.dims.length !== 3 || labels.dims.length !== 1 || labels.dims[0] !== n) {
    throw new Error(`loadFashionMnist: expected images [N, 28, 28] and labels [N], got images [${images.dims.join(', ')}] and labels [${labels.dims.join(', ')}] in ${dir}`);
  }
  const byteOptions: ByteImagesOptions = { name: `Fashion-MNIST ${split}`, normalize: options.normalize };
  return new LabeledImages({ shape: [1, h, w], classes: FASHION_MNIST_CLASSES, pixels: images.data, labels: labels.data }, byteOptions);
}

function locate(dir: string, base: string): string {
  const candidates = [join(dir, `${base}.gz`), join(dir, base)];
  const found = firstExisting(candidates);
  if (!found) {
    throw new Error(`loadFashionMnist: Fashion-MNIST file not found (tried ${candidates.join(' and ')}); install Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist), or pass dir / set WELFORD_FASHION_MNIST_DIR to a folder holding the IDX files`);
  }
  return found;
}
