import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseIdx } from '../src/index.ts';
import { readIdxFile } from '../src/node/index.ts';
import { idxBytes } from './helpers.ts';

describe('parseIdx', () => {
  it('reads the dimensions big-endian and the values row-major', () => {
    // Two 2x3 images; 300 = 0x0000012c checks the byte order of a dimension.
    const images = parseIdx(idxBytes([2, 2, 3], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]));
    expect(images.dims).toEqual([2, 2, 3]);
    expect([...images.data]).toEqual([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
    const labels = parseIdx(idxBytes([300], Array.from({ length: 300 }, (_, i) => i % 10)));
    expect(labels.dims).toEqual([300]);
    expect(labels.data[299]).toBe(9);
  });

  it('builds the header a hand-written buffer has', () => {
    const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]);
    expect(parseIdx(bytes)).toEqual({ dims: [3], data: new Uint8Array([7, 8, 9]) });
  });

  it('rejects a bad magic number, another value type and a wrong length', () => {
    const good = idxBytes([2], [1, 2]);
    const bad = good.slice();
    bad[0] = 0x1f;
    expect(() => parseIdx(bad, 'labels.idx')).toThrow(/labels\.idx has magic number 0x1f000801, not an IDX file/);
    expect(() => parseIdx(idxBytes([1], [0, 0, 0, 0], 0x0d))).toThrow(/holds float32 values \(type 0x0d\); only uint8/);
    expect(() => parseIdx(good.subarray(0, 5))).toThrow(/declares 1 dimensions but has only 5 bytes/);
    expect(() => parseIdx(idxBytes([2, 2], [1, 2, 3]))).toThrow(/dimensions \[2, 2\] \(4 values\) but 3 data bytes/);
    expect(() => parseIdx(new Uint8Array(2))).toThrow(/too short/);
  });
});

describe('readIdxFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'welford-idx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads plain and gzipped files alike', () => {
    const bytes = idxBytes([2, 2], [10, 20, 30, 40]);
    writeFileSync(join(dir, 'plain'), bytes);
    writeFileSync(join(dir, 'zipped.gz'), gzipSync(bytes));
    for (const name of ['plain', 'zipped.gz']) {
      const got = readIdxFile(join(dir, name));
      expect(got.dims).toEqual([2, 2]);
      expect([...got.data]).toEqual([10, 20, 30, 40]);
    }
  });

  it('names the missing path', () => {
    expect(() => readIdxFile(join(dir, 'nope'))).toThrow(/welford-idx-.*nope does not exist/);
  });
});
