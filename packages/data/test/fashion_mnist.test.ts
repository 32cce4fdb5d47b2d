import { describe, expect, it } from 'vitest';
import { FASHION_MNIST_CLASSES, loadFashionMnist } from '../src/node/index.ts';

/** How many samples carry each label. */
function labelCounts(labels: Uint8Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const l of labels) counts[l]++;
  return counts;
}

describe('Fashion-MNIST from the Debian package', () => {
  it('has 60000 training images of [1, 28, 28], 6000 per class', () => {
    const train = loadFashionMnist({ split: 'train' });
    expect(train.length).toBe(60000);
    expect(train.shape).toEqual([1, 28, 28]);
    expect(train.classes).toEqual([...FASHION_MNIST_CLASSES]);
    expect(labelCounts(train.labels)).toEqual(new Array(10).fill(6000));
    // The well-known first training sample is an ankle boot.
    const first = train.get(0);
    expect(first.label).toBe(9);
    expect(first.image.length).toBe(784);
    expect(Math.min(...first.image)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...first.image)).toBeLessThanOrEqual(1);
    expect(first.image[0]).toBe(train.pixels[0] / 255);
  });

  it('has 10000 test images, 1000 per class', () => {
    const test = loadFashionMnist({ split: 'test' });
    expect(test.length).toBe(10000);
    expect(labelCounts(test.labels)).toEqual(new Array(10).fill(1000));
    expect(test.get(9999).label).toBeLessThan(10);
    expect(() => test.get(10000)).toThrow(/Fashion-MNIST test: index 10000 is out of range for a dataset of 10000 samples/);
  });

  it('normalizes when asked', () => {
    const plain = loadFashionMnist({ split: 'test' });
    const norm = loadFashionMnist({ split: 'test', normalize: { mean: [0.2860], std: [0.3530] } });
    const a = plain.get(3).image;
    const b = norm.get(3).image;
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo((a[i] - 0.286) / 0.353, 5);
  });

  it('says which files it looked for and which package to install', () => {
    expect(() => loadFashionMnist({ dir: '/nonexistent/fmnist' })).toThrow(
      /tried \/nonexistent\/fmnist\/train-images-idx3-ubyte\.gz and \/nonexistent\/fmnist\/train-images-idx3-ubyte\); install Debian's dataset-fashion-mnist package/,
    );
    // @ts-expect-error: a split that does not exist
    expect(() => loadFashionMnist({ split: 'val' })).toThrow(/split must be 'train' or 'test', got "val"/);
  });
});
