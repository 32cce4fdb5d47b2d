// The networks experiments train: small enough that a sweep of settings runs in minutes on a
// software adapter, real enough (convolutions, a norm per stage, global pooling) that the
// normalization's effect is the one a larger CNN shows.
import { manualSeed } from '@welford/core';
import { AvgPool2d, Conv2d, createNorm, Flatten, Linear, ReLU, Sequential, smallCnn, type NormKind, type SmallCnn } from '@welford/layers';

/** Options of `digitCnn`. */
export interface DigitCnnOptions {
  norm: NormKind;
  /** Channels of the first stage (default 8); then 2w, 2w. */
  width?: number;
  /** Groups of group norm (default 4). */
  groups?: number;
  /** Seeds the initial weights. */
  seed: number;
}

/**
 * Three 3×3 conv stages (w, 2w, 2w channels; strides 2, 2, 1: 28 → 14 → 7), each followed by the
 * norm bn{i} and a ReLU module relu{i} (`norms`, `relus`), global average pooling and a linear
 * classifier over the 10 digits.
 */
export function digitCnn({ norm, width = 8, groups = 4, seed }: DigitCnnOptions): SmallCnn {
  manualSeed(seed);
  return smallCnn({ norm, groups, widths: [width, 2 * width, 2 * width], strides: [2, 2, 1] });
}

/**
 * Two 3×3 conv stages (w, 2w channels; stride 2: 28 → 14 → 7), each followed by the norm and a
 * ReLU, a 3×3 average pool with stride 2 (7 → 3), and a linear classifier over the 2w·3·3
 * features. Keeping where in the image a feature was, it learns digits in a few hundred samples
 * where digitCnn's global average pooling needs thousands: quick runs that must compare trained
 * networks within about a minute on a software adapter use it.
 */
export function digitPooledCnn({ norm, width = 8, groups = 4, seed }: DigitCnnOptions): Sequential {
  manualSeed(seed);
  const bias = norm === 'none';
  const stage = (inC: number, outC: number) => [new Conv2d(inC, outC, 3, { stride: 2, padding: 1, bias }), createNorm(norm, outC, { groups }), new ReLU()];
  return new Sequential(...stage(1, width), ...stage(width, 2 * width), new AvgPool2d(3, { stride: 2 }), new Flatten(), new Linear(2 * width * 3 * 3, 10));
}
