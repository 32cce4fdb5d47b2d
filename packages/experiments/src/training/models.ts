// The networks experiments train: small enough that a sweep of settings runs in minutes on a
// software adapter, real enough (convolutions, a norm per stage, global pooling) that the
// normalization's effect is the one a larger CNN shows.
import { manualSeed } from '@welford/core';
import { smallCnn, type NormKind, type SmallCnn } from '@welford/layers';

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
