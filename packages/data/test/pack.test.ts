import { describe, expect, it } from 'vitest';
import { LabeledImages, MaskedImages, packDataset, quantizeDataset, SyntheticShapes, unpackDataset } from '../src/index.ts';

function labeled(): LabeledImages {
  // Three 2x3x5 images with every byte value appearing somewhere.
  const pixels = Uint8Array.from({ length: 3 * 30 }, (_, i) => (i * 37) % 256);
  return new LabeledImages({ shape: [2, 3, 5], classes: ['cat', 'dög', 'ü'], pixels, labels: new Uint8Array([2, 0, 1]) });
}

describe('the packed binary format', () => {
  it('round-trips labeled images bit-exactly from an ArrayBuffer', () => {
    const set = labeled();
    const bytes = packDataset(set);
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('WFDS');
    const back = unpackDataset(bytes.slice().buffer);
    expect(back.kind).toBe('labels');
    if (back.kind !== 'labels') return;
    expect(back.shape).toEqual([2, 3, 5]);
    expect(back.classes).toEqual(['cat', 'dög', 'ü']);
    expect([...back.pixels]).toEqual([...set.pixels]);
    expect([...back.labels]).toEqual([2, 0, 1]);
    expect(packDataset(back)).toEqual(bytes);
    expect(back.get(2).image).toEqual(set.get(2).image);
  });

  it('round-trips masks, and reads a view with an offset', () => {
    const shapes = quantizeDataset(new SyntheticShapes({ length: 3, size: 10, seed: 5 }));
    expect(shapes).toBeInstanceOf(MaskedImages);
    const bytes = packDataset(shapes);
    const padded = new Uint8Array(bytes.length + 7);
    padded.set(bytes, 7);
    const back = unpackDataset(padded.subarray(7));
    expect(back.kind).toBe('masks');
    expect(packDataset(back)).toEqual(bytes);
    expect(back.get(1)).toEqual(shapes.get(1));
  });

  it('quantizes [0, 1] floats to the nearest byte', () => {
    const shapes = new SyntheticShapes({ length: 2, size: 9, seed: 1 });
    const q = quantizeDataset(shapes);
    const want = shapes.get(1).image;
    const got = q.get(1).image;
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(0.5 / 255 + 1e-7);
    expect(q.get(1).mask).toEqual(shapes.get(1).mask);
  });

  it('rejects what is not a packed dataset, naming what it expected', () => {
    const bytes = packDataset(labeled());
    const wrong = bytes.slice();
    wrong[0] = 0x58;
    expect(() => unpackDataset(wrong)).toThrow(/expected magic "WFDS", got "XFDS"/);
    expect(() => unpackDataset(bytes.subarray(0, bytes.length - 1))).toThrow(/3 images of \[2, 3, 5\] with labels needs \d+ bytes, got \d+/);
    expect(() => unpackDataset(new Uint8Array(10))).toThrow(/at least a 32-byte header, got 10 bytes/);
    const newer = bytes.slice();
    newer[4] = 2;
    expect(() => unpackDataset(newer)).toThrow(/unsupported version 2/);
  });

  it('validates byte images when they are made', () => {
    const pixels = new Uint8Array(8);
    expect(() => new LabeledImages({ shape: [1, 2, 2], classes: ['a', 'b'], pixels, labels: new Uint8Array([0]) })).toThrow(/2 images but 1 labels/);
    expect(() => new LabeledImages({ shape: [1, 2, 2], classes: ['a', 'b'], pixels, labels: new Uint8Array([0, 2]) })).toThrow(/label 1 is 2, but there are only 2 classes/);
    expect(() => new LabeledImages({ shape: [1, 3, 2], classes: ['a'], pixels, labels: new Uint8Array(1) })).toThrow(/8 pixel bytes are not a whole number of \[1, 3, 2\] images/);
  });
});
