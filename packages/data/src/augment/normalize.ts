import { checkNormalization } from '../checks.ts';
import { normalizeInPlace } from '../normalize.ts';
import type { ImageShape, Normalization, RandomSource, Sample } from '../types.ts';
import { withPixels, type Transform } from './transform.ts';

/**
 * torchvision's Normalize(mean, std), applied to each sample: (x − mean[c]) / std[c] for
 * channel c. Deterministic; masks pass through unchanged.
 */
export function normalize(norm: Normalization): Transform {
  const fixed: Normalization = { mean: [...norm.mean], std: [...norm.std] };
  return {
    outputShape: (shape) => {
      checkNormalization('normalize', fixed, shape);
      return shape;
    },
    apply<S extends Sample>(sample: S, shape: ImageShape, _rng: RandomSource): S {
      checkNormalization('normalize', fixed, shape);
      return withPixels(sample, normalizeInPlace(Float32Array.from(sample.image), shape, fixed), null);
    },
  };
}
