import { describe, expect, it } from 'vitest';
import { compose, normalize, randomCrop, randomHorizontalFlip, type MaskedImage } from '../src/index.ts';
import { scripted } from './helpers.ts';

// A 2-channel 3x4 image: channel 0 holds 1..12, channel 1 holds 101..112; the mask holds 1..12.
const image = Float32Array.from([...Array.from({ length: 12 }, (_, i) => i + 1), ...Array.from({ length: 12 }, (_, i) => i + 101)]);
const sample: MaskedImage = { image, mask: Uint8Array.from({ length: 12 }, (_, i) => i + 1) };

describe('randomCrop', () => {
  it('pads with zeros and cuts the window the draws name (top first)', () => {
    const crop = randomCrop([2, 3], { padding: 1 });
    expect(crop.outputShape([2, 3, 4])).toEqual([2, 2, 3]);
    // Padded 5x6: top in 0..3, left in 0..3; uniforms 0 and 0.99 pick 0 and 3.
    const corner = crop.apply(sample, [2, 3, 4], scripted([0, 0]));
    expect([...corner.image]).toEqual([0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 101, 102]);
    expect([...corner.mask]).toEqual([0, 0, 0, 0, 1, 2]);
    const far = crop.apply(sample, [2, 3, 4], scripted([0.99, 0.99]));
    // top = 3 − 1 = 2, left = 3 − 1 = 2: rows 2..3 (3 is padding), columns 2..4 (4 is padding).
    expect([...far.image]).toEqual([11, 12, 0, 0, 0, 0, 111, 112, 0, 0, 0, 0]);
    expect([...far.mask]).toEqual([11, 12, 0, 0, 0, 0]);
    const middle = crop.apply({ image, label: 4 }, [2, 3, 4], scripted([0.5, 0.3]));
    // top = 2 − 1 = 1, left = 1 − 1 = 0.
    expect([...middle.image]).toEqual([5, 6, 7, 9, 10, 11, 105, 106, 107, 109, 110, 111]);
    expect(middle.label).toBe(4);
    expect([...image.subarray(0, 3)]).toEqual([1, 2, 3]);
  });

  it('refuses a crop larger than the padded image', () => {
    expect(() => randomCrop(6, { padding: 1 }).outputShape([1, 3, 4])).toThrow(/a 6x6 crop does not fit images of shape \[1, 3, 4\] padded by 1 \(5x6\)/);
    expect(() => randomCrop(2, { padding: -1 })).toThrow(/padding must be a non-negative integer, got -1/);
  });
});

describe('randomHorizontalFlip', () => {
  it('mirrors image and mask when the draw is below p, and leaves them otherwise', () => {
    const flip = randomHorizontalFlip(0.5);
    const flipped = flip.apply(sample, [2, 3, 4], scripted([0.49]));
    expect([...flipped.image.subarray(0, 4)]).toEqual([4, 3, 2, 1]);
    expect([...flipped.image.subarray(12, 16)]).toEqual([104, 103, 102, 101]);
    expect([...flipped.mask]).toEqual([4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9]);
    expect(flip.apply(sample, [2, 3, 4], scripted([0.5]))).toBe(sample);
    expect(() => randomHorizontalFlip(1.5)).toThrow(/p must be a finite number in \[0, 1\], got 1.5/);
  });
});

describe('normalize and compose', () => {
  it('normalizes per channel', () => {
    const out = normalize({ mean: [1, 101], std: [2, 4] }).apply(sample, [2, 3, 4], scripted([]));
    expect(out.image[11]).toBe(5.5);
    expect(out.image[23]).toBe(2.75);
    expect(out.mask).toBe(sample.mask);
    expect(() => normalize({ mean: [0], std: [1] }).outputShape([2, 3, 4])).toThrow(/needs 2 mean and 2 std values/);
  });

  it('runs transforms in order on the shapes they produce', () => {
    const t = compose(randomCrop(2), randomHorizontalFlip(1), normalize({ mean: [0, 100], std: [1, 1] }));
    expect(t.outputShape([2, 3, 4])).toEqual([2, 2, 2]);
    const rng = scripted([0, 0.5, 0]);
    const out = t.apply(sample, [2, 3, 4], rng);
    // Crop at (0, 1): [[2, 3], [6, 7]], flipped: [[3, 2], [7, 6]].
    expect([...out.image]).toEqual([3, 2, 7, 6, 3, 2, 7, 6]);
    expect([...out.mask]).toEqual([3, 2, 7, 6]);
    expect(rng.left()).toBe(0);
  });
});
