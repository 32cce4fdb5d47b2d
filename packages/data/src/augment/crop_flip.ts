import { checkNumber, checkPositiveInt } from '../checks.ts';
import { randomInt } from '../random.ts';
import { isMasked, type ImageShape, type RandomSource, type Sample } from '../types.ts';
import { withPixels, type Transform } from './transform.ts';

export interface RandomCropOptions {
  /** Zeros added on every side before cropping (torchvision's padding; default 0). */
  padding?: number;
}

/**
 * torchvision's RandomCrop(size, padding): pads each side with `padding` zeros (the mask with
 * 0, background), then cuts a size[0]×size[1] window at a uniformly random offset, top first,
 * then left. `size` is one number for a square crop or [height, width].
 */
export function randomCrop(size: number | readonly [number, number], options: RandomCropOptions = {}): Transform {
  const [ch, cw] = typeof size === 'number' ? [size, size] : size;
  const pad = options.padding ?? 0;
  checkPositiveInt('randomCrop', 'height', ch);
  checkPositiveInt('randomCrop', 'width', cw);
  if (!Number.isInteger(pad) || pad < 0) throw new Error(`randomCrop: padding must be a non-negative integer, got ${String(pad)}`);
  const outputShape = ([c, h, w]: ImageShape): ImageShape => {
    if (ch > h + 2 * pad || cw > w + 2 * pad) {
      throw new Error(`randomCrop: a ${ch}x${cw} crop does not fit images of shape [${c}, ${h}, ${w}] padded by ${pad} (${h + 2 * pad}x${w + 2 * pad})`);
    }
    return [c, ch, cw];
  };
  return {
    outputShape,
    apply<S extends Sample>(sample: S, shape: ImageShape, rng: RandomSource): S {
      outputShape(shape);
      const [c, h, w] = shape;
      // Offsets of the window in the padded image, then in the original one.
      const top = randomInt(rng, h + 2 * pad - ch + 1) - pad;
      const left = randomInt(rng, w + 2 * pad - cw + 1) - pad;
      const image = new Float32Array(c * ch * cw);
      for (let k = 0; k < c; k++) copyWindow(sample.image, k * h * w, h, w, image, k * ch * cw, ch, cw, top, left);
      let mask: Uint8Array | null = null;
      if (isMasked(sample)) {
        mask = new Uint8Array(ch * cw);
        copyWindow(sample.mask, 0, h, w, mask, 0, ch, cw, top, left);
      }
      return withPixels(sample, image, mask);
    },
  };
}

/** Copies the ch×cw window at (top, left) of one h×w plane; pixels outside the plane stay 0. */
function copyWindow(src: ArrayLike<number>, srcAt: number, h: number, w: number, dst: Float32Array | Uint8Array, dstAt: number, ch: number, cw: number, top: number, left: number): void {
  for (let y = 0; y < ch; y++) {
    const sy = y + top;
    if (sy < 0 || sy >= h) continue;
    for (let x = 0; x < cw; x++) {
      const sx = x + left;
      if (sx >= 0 && sx < w) dst[dstAt + y * cw + x] = src[srcAt + sy * w + sx];
    }
  }
}

/** torchvision's RandomHorizontalFlip(p): mirrors left–right when a uniform draw is below p. */
export function randomHorizontalFlip(p = 0.5): Transform {
  checkNumber('randomHorizontalFlip', 'p', p, 0, 1);
  return {
    outputShape: (shape) => shape,
    apply<S extends Sample>(sample: S, shape: ImageShape, rng: RandomSource): S {
      if (!(rng.uniform() < p)) return sample;
      const [c, h, w] = shape;
      const image = new Float32Array(sample.image.length);
      for (let row = 0; row < c * h; row++) mirrorRow(sample.image, image, row * w, w);
      let mask: Uint8Array | null = null;
      if (isMasked(sample)) {
        mask = new Uint8Array(sample.mask.length);
        for (let row = 0; row < h; row++) mirrorRow(sample.mask, mask, row * w, w);
      }
      return withPixels(sample, image, mask);
    },
  };
}

function mirrorRow(src: ArrayLike<number>, dst: Float32Array | Uint8Array, at: number, w: number): void {
  for (let x = 0; x < w; x++) dst[at + x] = src[at + w - 1 - x];
}
