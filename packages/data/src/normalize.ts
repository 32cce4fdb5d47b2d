import type { ImageShape, Normalization } from './types.ts';

/** Applies (x − mean[c]) / std[c] to every pixel of channel c, in place; returns `image`. */
export function normalizeInPlace(image: Float32Array, shape: ImageShape, norm: Normalization): Float32Array {
  const plane = shape[1] * shape[2];
  for (let c = 0; c < shape[0]; c++) {
    const mean = norm.mean[c];
    const std = norm.std[c];
    for (let i = c * plane; i < (c + 1) * plane; i++) image[i] = (image[i] - mean) / std;
  }
  return image;
}
