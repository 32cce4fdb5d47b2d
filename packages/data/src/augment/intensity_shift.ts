import { checkIndex, checkNumber } from '../checks.ts';
import type { ImageDataset, ImageShape, Normalization, RandomSource, Sample } from '../types.ts';
import { withPixels, type Transform } from './transform.ts';

/**
 * A covariate shift of image intensities (a change of exposure), defined on intensities in
 * [0, 1], before any dataset normalization:
 *
 *   x' = contrast · (x − c) + c + brightness,   then clipped to [0, 1] when `clip`,
 *
 * where c is the center of the contrast change: by default the mean of the image's channel
 * (ImageNet-C's contrast corruption and torchvision's adjust_contrast scale around the image
 * mean), or a fixed intensity. So "brightness +0.3, contrast 0.6" keeps 60 % of every pixel's
 * deviation from its image's mean and then lifts the whole image by 0.3 of the full range.
 */
export interface IntensityShiftOptions {
  /** Added to every intensity after the contrast change (default 0; 0.3 lifts black to 0.3). */
  brightness?: number;
  /** Factor on the deviations from the center (default 1: unchanged; 0: a flat image of the center). Must be >= 0. */
  contrast?: number;
  /** 'mean' (default): the mean of each image's channel; or a fixed intensity such as 0.5. */
  center?: 'mean' | number;
  /** Clip the result to [0, 1], the range of stored pixels (default true). */
  clip?: boolean;
}

interface CheckedShift {
  brightness: number;
  contrast: number;
  center: 'mean' | number;
  clip: boolean;
}

function checkShift(owner: string, options: IntensityShiftOptions): CheckedShift {
  const { brightness = 0, contrast = 1, center = 'mean', clip = true } = options;
  checkNumber(owner, 'brightness', brightness);
  checkNumber(owner, 'contrast', contrast, 0);
  if (center !== 'mean') checkNumber(owner, "center (a number, or 'mean')", center);
  if (typeof clip !== 'boolean') throw new Error(`${owner}: clip must be a boolean, got ${String(clip)}`);
  return { brightness, contrast, center, clip };
}

function shiftPixels(image: Float32Array, shape: ImageShape, s: CheckedShift): Float32Array {
  const [c, h, w] = shape;
  const plane = h * w;
  if (image.length !== c * plane) throw new Error(`intensityShift: an image of shape [${c}, ${h}, ${w}] has ${c * plane} values, got ${image.length}`);
  const out = new Float32Array(image.length);
  for (let k = 0; k < c; k++) {
    const from = k * plane;
    let center = s.center === 'mean' ? 0 : s.center;
    if (s.center === 'mean') {
      for (let i = from; i < from + plane; i++) center += image[i];
      center /= plane;
    }
    // Float64 arithmetic, rounded once to float32.
    for (let i = from; i < from + plane; i++) {
      const v = s.contrast * (image[i] - center) + center + s.brightness;
      out[i] = s.clip ? Math.min(1, Math.max(0, v)) : v;
    }
  }
  return out;
}

/**
 * The shifted copy of one image ([C, H, W], intensities in [0, 1]); see IntensityShiftOptions
 * for the formula. The input is not changed.
 */
export function shiftIntensity(image: Float32Array, shape: ImageShape, options: IntensityShiftOptions = {}): Float32Array {
  return shiftPixels(image, shape, checkShift('shiftIntensity', options));
}

/**
 * The intensity shift as a Transform for a DataLoader or `compose`: deterministic (it draws
 * nothing), masks pass through. Put it before `normalize`: it works on [0, 1] intensities.
 */
export function intensityShift(options: IntensityShiftOptions = {}): Transform {
  const shift = checkShift('intensityShift', options);
  return {
    outputShape: (shape) => shape,
    apply<S extends Sample>(sample: S, shape: ImageShape, _rng: RandomSource): S {
      return withPixels(sample, shiftPixels(sample.image, shape, shift), null);
    },
  };
}

/**
 * A view of `dataset` whose images are shifted as IntensityShiftOptions says, computed on each
 * `get`; labels and masks are the dataset's. The dataset must hold [0, 1] intensities: one
 * loaded with a `normalize` option is refused (normalize after the shift instead).
 */
export function intensityShifted<S extends Sample>(dataset: ImageDataset<S>, options: IntensityShiftOptions = {}): ImageDataset<S> {
  const shift = checkShift('intensityShifted', options);
  const normalization = (dataset as { normalization?: Normalization | null }).normalization;
  if (normalization) {
    throw new Error('intensityShifted: the dataset is normalized (it was loaded with a normalize option); the shift is defined on [0, 1] intensities: load it without normalize and normalize after the shift');
  }
  return {
    length: dataset.length,
    shape: dataset.shape,
    classes: dataset.classes,
    get: (index: number): S => {
      checkIndex('intensityShifted', index, dataset.length);
      const sample = dataset.get(index);
      return withPixels(sample, shiftPixels(sample.image, dataset.shape, shift), null);
    },
  };
}
