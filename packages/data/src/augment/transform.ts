import type { ImageShape, RandomSource, Sample } from '../types.ts';

/**
 * A per-sample transform run on the host before upload (torchvision.transforms, seeded). It
 * receives the sample's shape and a random source, returns a new sample and never changes its
 * argument. A segmentation sample's mask goes through the same geometric change as its image.
 */
export interface Transform {
  /** The [C, H, W] of the samples it returns, given the [C, H, W] it receives. */
  outputShape(shape: ImageShape): ImageShape;
  apply<S extends Sample>(sample: S, shape: ImageShape, rng: RandomSource): S;
}

/** Runs transforms in order (torchvision's Compose). */
export function compose(...transforms: Transform[]): Transform {
  return {
    outputShape: (shape) => transforms.reduce((s, t) => t.outputShape(s), shape),
    apply<S extends Sample>(sample: S, shape: ImageShape, rng: RandomSource): S {
      let current = sample;
      let currentShape = shape;
      for (const t of transforms) {
        current = t.apply(current, currentShape, rng);
        currentShape = t.outputShape(currentShape);
      }
      return current;
    },
  };
}

/** The sample with a new image, and a new mask where it has one. */
export function withPixels<S extends Sample>(sample: S, image: Float32Array, mask: Uint8Array | null): S {
  return mask && 'mask' in sample ? { ...sample, image, mask } : { ...sample, image };
}
