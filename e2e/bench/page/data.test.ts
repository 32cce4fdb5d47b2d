// The benchmark's host data: TF.js gets welford's NCHW input as NHWC, so with more than one
// channel the transpose must put every number where TF.js reads the same pixel.
import { describe, expect, it } from 'vitest';
import { toNhwc } from './data.ts';

describe('toNhwc', () => {
  it('moves channels last: element (n, c, h, w) lands at (n, h, w, c)', () => {
    const [n, c, h, w] = [2, 3, 2, 4];
    const nchw = Float32Array.from({ length: n * c * h * w }, (_, i) => i);
    const nhwc = toNhwc(nchw, [n, c, h, w]);
    for (let b = 0; b < n; b++)
      for (let k = 0; k < c; k++)
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) expect(nhwc[((b * h + y) * w + x) * c + k]).toBe(nchw[((b * c + k) * h + y) * w + x]);
  });

  it('leaves one-channel data as it is', () => {
    const x = Float32Array.from({ length: 2 * 1 * 3 * 3 }, (_, i) => i * 0.5);
    expect(toNhwc(x, [2, 1, 3, 3])).toEqual(x);
  });
});
