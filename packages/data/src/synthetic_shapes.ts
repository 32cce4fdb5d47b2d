import { Random } from '@welford/core';
import { checkIndex, checkNormalization, checkNumber, checkPositiveInt } from './checks.ts';
import { normalizeInPlace } from './normalize.ts';
import { deriveSeed, randomInt } from './random.ts';
import type { ImageShape, MaskedImage, Normalization, SegmentationDataset } from './types.ts';

/** The mask's class ids: 0 is background, then one id per kind of shape. */
export const SHAPE_CLASSES = ['background', 'circle', 'square', 'triangle'] as const;

/** One shape drawn in an image: its class id (1 circle, 2 square, 3 triangle) and geometry in pixels. */
export interface ShapeSpec {
  kind: 1 | 2 | 3;
  /** Centre; pixel (x, y) covers [x, x + 1) × [y, y + 1) and is tested at its centre. */
  cx: number;
  cy: number;
  /** Radius of the circle, half the side of the square, half the base and height of the triangle. */
  r: number;
  /** Where the triangle's apex points: 0 up, 1 right, 2 down, 3 left (ignored by the others). */
  orientation: 0 | 1 | 2 | 3;
  /** Fill intensity in [0.55, 1). */
  intensity: number;
}

export interface SyntheticShapesOptions {
  /** Number of images (default 1000). */
  length?: number;
  /** Image height and width: one number for a square image (default 32), or [height, width]. */
  size?: number | readonly [number, number];
  /** Seed: the same seed gives the same images on every machine (default 0). */
  seed?: number;
  /** Fewest and most shapes per image (default [1, 3]). */
  shapes?: readonly [number, number];
  /** Amplitude of the per-pixel noise added everywhere, in [0, 1] (default 0.1). */
  noise?: number;
  /** Per-channel (x − mean) / std applied after drawing (default: none, values in [0, 1]). */
  normalize?: Normalization;
}

/**
 * A segmentation dataset of 1-channel images with a few filled circles, squares and
 * isosceles triangles on a background of random level in [0, 0.3), plus noise; the mask holds
 * each pixel's class (SHAPE_CLASSES: 0 background, 1 circle, 2 square, 3 triangle), later shapes
 * covering earlier ones. Image i is drawn from its own generator, seeded by (seed, i), so
 * `get(i)` is random-access and cheap. Only integer hashing, + − × / and comparisons are used
 * (no Math.sin or Math.log, whose last bits vary between JavaScript engines), so the same seed
 * gives the same bytes everywhere.
 */
export class SyntheticShapes implements SegmentationDataset {
  readonly length: number;
  readonly shape: ImageShape;
  readonly classes: readonly string[] = SHAPE_CLASSES;
  readonly seed: number;
  private readonly minShapes: number;
  private readonly maxShapes: number;
  private readonly noise: number;
  private readonly normalization: Normalization | null;

  constructor(options: SyntheticShapesOptions = {}) {
    const name = 'SyntheticShapes';
    this.length = options.length ?? 1000;
    checkPositiveInt(name, 'length', this.length);
    const size = options.size ?? 32;
    const [h, w] = typeof size === 'number' ? [size, size] : size;
    checkPositiveInt(name, 'height', h);
    checkPositiveInt(name, 'width', w);
    if (Math.min(h, w) < 8) throw new Error(`${name}: images must be at least 8x8 to hold a shape, got ${h}x${w}`);
    this.shape = [1, h, w];
    this.seed = options.seed ?? 0;
    checkNumber(name, 'seed', this.seed);
    [this.minShapes, this.maxShapes] = options.shapes ?? [1, 3];
    checkPositiveInt(name, 'shapes[0] (fewest shapes)', this.minShapes);
    checkPositiveInt(name, 'shapes[1] (most shapes)', this.maxShapes);
    if (this.maxShapes < this.minShapes) throw new Error(`${name}: shapes must be [fewest, most] with fewest <= most, got [${this.minShapes}, ${this.maxShapes}]`);
    this.noise = options.noise ?? 0.1;
    checkNumber(name, 'noise', this.noise, 0, 1);
    if (options.normalize) checkNormalization(name, options.normalize, this.shape);
    this.normalization = options.normalize ?? null;
  }

  /** The shapes drawn in image `index`, in drawing order, and its background level. */
  describe(index: number): { background: number; shapes: ShapeSpec[] } {
    checkIndex('SyntheticShapes', index, this.length);
    return this.draw(new Random(deriveSeed(this.seed, index)));
  }

  get(index: number): MaskedImage {
    checkIndex('SyntheticShapes', index, this.length);
    const rng = new Random(deriveSeed(this.seed, index));
    const { background, shapes } = this.draw(rng);
    const [, h, w] = this.shape;
    const image = new Float32Array(h * w);
    const mask = new Uint8Array(h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let value = background;
        for (const s of shapes) {
          if (shapeCovers(s, x + 0.5, y + 0.5)) {
            mask[y * w + x] = s.kind;
            value = s.intensity;
          }
        }
        // Triangular noise (the sum of two uniforms), drawn for every pixel so the stream stays aligned.
        const n = this.noise * (rng.uniform() + rng.uniform() - 1);
        image[y * w + x] = Math.min(1, Math.max(0, value + n));
      }
    }
    return { image: this.normalization ? normalizeInPlace(image, this.shape, this.normalization) : image, mask };
  }

  private draw(rng: Random): { background: number; shapes: ShapeSpec[] } {
    const [, h, w] = this.shape;
    const background = 0.3 * rng.uniform();
    const count = this.minShapes + randomInt(rng, this.maxShapes - this.minShapes + 1);
    const side = Math.min(h, w);
    const shapes: ShapeSpec[] = [];
    for (let i = 0; i < count; i++) {
      const kind = (1 + randomInt(rng, 3)) as ShapeSpec['kind'];
      const r = side * (0.12 + 0.13 * rng.uniform());
      // Centres keep the whole shape inside the image.
      const cx = r + (w - 2 * r) * rng.uniform();
      const cy = r + (h - 2 * r) * rng.uniform();
      const orientation = randomInt(rng, 4) as ShapeSpec['orientation'];
      const intensity = 0.55 + 0.45 * rng.uniform();
      shapes.push({ kind, cx, cy, r, orientation, intensity });
    }
    return { background, shapes };
  }
}

/** Whether the point (px, py) lies inside the shape (boundary included). */
export function shapeCovers(s: ShapeSpec, px: number, py: number): boolean {
  const dx = px - s.cx;
  const dy = py - s.cy;
  if (s.kind === 1) return dx * dx + dy * dy <= s.r * s.r;
  if (s.kind === 2) return Math.abs(dx) <= s.r && Math.abs(dy) <= s.r;
  // Turn the point into the frame of an upward triangle: apex (0, −r), base from (−r, r) to (r, r).
  const [u, v] = [
    [dx, dy],
    [dy, -dx],
    [-dx, -dy],
    [-dy, dx],
  ][s.orientation];
  return v <= s.r && Math.abs(u) <= (v + s.r) / 2;
}
