// A truncated Fashion-MNIST .gz (an interrupted download) stops `welford train` with one line that
// names the file, before any folder is made; zlib's "unexpected end of file" alone names nothing.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { jsStackLines, welfordLines, welfordRun } from './helpers.ts';

/** An IDX file of unsigned bytes with the given dimensions, every value `fill`. */
function idx(dims: number[], fill: number): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  const bytes = new Uint8Array(4 + 4 * dims.length + count).fill(fill);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x0800 + dims.length);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  return bytes;
}

describe('welford train on a truncated .gz dataset file', () => {
  it('exits 1 naming the file, without a stack or a run folder', async () => {
    const data = mkdtempSync(join(tmpdir(), 'welford-fashion-'));
    const images = gzipSync(idx([100, 28, 28], 7));
    const truncated = join(data, 'train-images-idx3-ubyte.gz');
    writeFileSync(truncated, images.subarray(0, images.length - 20));
    writeFileSync(join(data, 'train-labels-idx1-ubyte.gz'), gzipSync(idx([100], 3)));
    const out = join(data, 'run');
    const r = await welfordRun(['train', '--model', 'small-cnn', '--norm', 'batch', '--dataset', 'fashion-mnist', '--out', out], { WELFORD_FASHION_MNIST_DIR: data });
    expect(r.status, r.stderr).toBe(1);
    expect(welfordLines(r.stderr)).toEqual([`welford train: ${truncated} is a truncated or corrupt gzip file (unexpected end of file); download or install it again`]);
    expect(jsStackLines(r.stderr)).toEqual([]);
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});
