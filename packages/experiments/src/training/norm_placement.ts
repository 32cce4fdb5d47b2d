// Where the norm sits relative to the nonlinearity: the same three conv stages with batch norm
// before the ReLU (conv → BN → ReLU: the ReLU sees normalized inputs) or after it
// (conv → ReLU → BN: the norm sees the ReLU's one-sided outputs), then global average pooling
// and a linear classifier over the 10 digits.
import { manualSeed } from '@welford/core';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, ReLU, Sequential, type Module } from '@welford/layers';

export type NormPlacement = 'before-relu' | 'after-relu';

/** Options of `placementCnn`. */
export interface PlacementCnnOptions {
  placement: NormPlacement;
  /** Output channels of each 3×3 convolution (default 8, 16, 16, as digitCnn). */
  widths?: readonly number[];
  /** Stride of each convolution (default 2, 2, 1: 28 → 14 → 7). */
  strides?: readonly number[];
  /** Seeds the initial weights. */
  seed: number;
}

/**
 * A digit classifier of conv stages (3×3, padding 1) with a BatchNorm2d and a ReLU each, in the
 * order `placement` says. A convolution right before a norm learns no bias (the norm's shift
 * replaces it); one before the ReLU has a bias, which decides where the ReLU cuts.
 */
export function placementCnn({ placement, widths = [8, 16, 16], strides = [2, 2, 1], seed }: PlacementCnnOptions): Sequential {
  if (widths.length === 0 || widths.length !== strides.length) {
    throw new Error(`placementCnn: widths and strides must be non-empty and of the same length, got widths [${widths.join(', ')}] and strides [${strides.join(', ')}]`);
  }
  manualSeed(seed);
  const layers: Module[] = [];
  widths.forEach((w, i) => {
    const conv = new Conv2d(i === 0 ? 1 : widths[i - 1], w, 3, { stride: strides[i], padding: 1, bias: placement === 'after-relu' });
    layers.push(conv, ...(placement === 'before-relu' ? [new BatchNorm2d(w), new ReLU()] : [new ReLU(), new BatchNorm2d(w)]));
  });
  layers.push(new AdaptiveAvgPool2d(1), new Flatten(), new Linear(widths[widths.length - 1], 10));
  return new Sequential(...layers);
}
