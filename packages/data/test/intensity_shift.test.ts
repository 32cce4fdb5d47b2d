import { describe, expect, it } from 'vitest';
import { compose, DataLoader, intensityShift, intensityShifted, LabeledImages, MaskedImages, normalize, shiftIntensity, type ImageShape } from '../src/index.ts';
import { cpuBackend, scripted } from './helpers.ts';

// A [2, 1, 4] image: channel 0 has mean 0.4375, channel 1 mean 0.5. Every expected value below
// is a binary fraction, so float32 holds it exactly.
const shape: ImageShape = [2, 1, 4];
const image = Float32Array.from([0, 0.25, 0.5, 1, 0.5, 0.5, 0.75, 0.25]);

describe('shiftIntensity', () => {
  it('scales deviations from each channel mean by contrast, then adds brightness', () => {
    const out = shiftIntensity(image, shape, { brightness: 0.25, contrast: 0.5 });
    // Channel 0: 0.5·(x − 0.4375) + 0.4375 + 0.25; channel 1: 0.5·(x − 0.5) + 0.5 + 0.25.
    expect([...out]).toEqual([0.46875, 0.59375, 0.71875, 0.96875, 0.75, 0.75, 0.875, 0.625]);
    expect([...image]).toEqual([0, 0.25, 0.5, 1, 0.5, 0.5, 0.75, 0.25]);
  });

  it('clips to [0, 1] unless told not to', () => {
    expect([...shiftIntensity(image, shape, { brightness: 0.5, contrast: 0.5 }).subarray(0, 4)]).toEqual([0.71875, 0.84375, 0.96875, 1]);
    expect([...shiftIntensity(image, shape, { brightness: 0.5, contrast: 0.5, clip: false }).subarray(0, 4)]).toEqual([0.71875, 0.84375, 0.96875, 1.21875]);
    expect([...shiftIntensity(image, shape, { brightness: -0.25 }).subarray(0, 4)]).toEqual([0, 0, 0.25, 0.75]);
  });

  it('takes a fixed center, and contrast 0 gives a flat image', () => {
    // 2·(x − 0.5) + 0.5 = 2x − 0.5, clipped.
    expect([...shiftIntensity(image, shape, { contrast: 2, center: 0.5 }).subarray(0, 4)]).toEqual([0, 0, 0.5, 1]);
    expect([...shiftIntensity(image, shape, { contrast: 0, brightness: 0.125 })]).toEqual([0.5625, 0.5625, 0.5625, 0.5625, 0.625, 0.625, 0.625, 0.625]);
    expect([...shiftIntensity(image, shape, {})]).toEqual([...image]);
  });

  it('brightness +0.3 and contrast 0.6 lift the mean by 0.3 and keep 60 % of the spread', () => {
    const [c, h, w] = [1, 8, 8] as const;
    const pixels = Float32Array.from({ length: c * h * w }, (_, i) => ((i * 37) % 64) / 100);
    const out = shiftIntensity(pixels, [c, h, w], { brightness: 0.3, contrast: 0.6 });
    const mean = (xs: Float32Array) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = (xs: Float32Array) => Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / xs.length);
    expect(mean(out)).toBeCloseTo(mean(pixels) + 0.3, 5);
    expect(std(out)).toBeCloseTo(0.6 * std(pixels), 5);
  });

  it('names the bad option and the value given', () => {
    expect(() => shiftIntensity(image, shape, { contrast: -0.5 })).toThrow('shiftIntensity: contrast must be a finite number in [0, Infinity], got -0.5');
    expect(() => shiftIntensity(image, shape, { brightness: Number.NaN })).toThrow('shiftIntensity: brightness must be a finite number, got NaN');
    expect(() => shiftIntensity(image, shape, { center: 'median' as 'mean' })).toThrow("shiftIntensity: center (a number, or 'mean') must be a finite number, got median");
    expect(() => shiftIntensity(image, [1, 2, 2], {})).toThrow('intensityShift: an image of shape [1, 2, 2] has 4 values, got 8');
  });
});

describe('intensityShift and intensityShifted', () => {
  const bytes = Uint8Array.from([0, 51, 102, 255, 255, 204, 153, 0]);
  const data = { shape: [1, 2, 2] as ImageShape, classes: ['a', 'b'] };

  it('as a transform: shifts the image, keeps label and mask, composes before normalize', () => {
    const t = intensityShift({ brightness: 0.25, contrast: 0.5 });
    const labeled = t.apply({ image, label: 1 }, shape, scripted([]));
    expect(labeled.label).toBe(1);
    expect(labeled.image[0]).toBe(0.46875);
    const mask = Uint8Array.of(1, 0);
    expect(t.apply({ image, mask }, shape, scripted([])).mask).toBe(mask);
    const loader = new DataLoader(new LabeledImages({ ...data, pixels: bytes, labels: Uint8Array.of(0, 1) }), {
      batchSize: 2,
      transform: compose(intensityShift({ contrast: 0, brightness: 0.1 }), normalize({ mean: [0.5], std: [0.25] })),
      backend: cpuBackend(),
    });
    const [batch] = loader.hostBatches(0);
    // Image 0 has mean (0 + 0.2 + 0.4 + 1) / 4 = 0.4, image 1 (1 + 0.8 + 0.6 + 0) / 4 = 0.6; contrast 0 flattens them.
    const want = [0.5, 0.7].flatMap((v) => Array<number>(4).fill(Math.fround((Math.fround(v) - 0.5) / 0.25)));
    [...batch.x].forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
  });

  it('as a dataset view: shifts on get, keeps the labels, refuses a normalized dataset', () => {
    const set = new MaskedImages({ ...data, pixels: bytes, masks: Uint8Array.of(0, 1, 1, 0, 1, 1, 0, 0) });
    const shifted = intensityShifted(set, { brightness: 0.5, center: 0, contrast: 1 });
    expect(shifted.length).toBe(2);
    expect(shifted.shape).toEqual([1, 2, 2]);
    expect([...shifted.get(0).image]).toEqual([0.5, 0.5 + Math.fround(0.2), 0.5 + Math.fround(0.4), 1].map(Math.fround));
    expect([...shifted.get(1).mask]).toEqual([1, 1, 0, 0]);
    expect(() => shifted.get(2)).toThrow('intensityShifted: index 2 is out of range for a dataset of 2 samples');
    const normalized = new LabeledImages({ ...data, pixels: bytes, labels: Uint8Array.of(0, 1) }, { normalize: { mean: [0.5], std: [0.25] } });
    expect(() => intensityShifted(normalized, { brightness: 0.3 })).toThrow(/intensityShifted: the dataset is normalized/);
  });
});
