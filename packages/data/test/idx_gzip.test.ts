// A gzipped IDX file cut short (an interrupted download) or damaged is reported with its path:
// zlib's own message ("unexpected end of file") says nothing of which file it was.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFashionMnist, readIdxFile } from '../src/node/index.ts';
import { idxBytes } from './helpers.ts';

describe('readIdxFile on a damaged .gz', () => {
  const dir = mkdtempSync(join(tmpdir(), 'welford-gz-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const zipped = gzipSync(idxBytes([64, 28, 28], Array.from({ length: 64 * 28 * 28 }, (_, i) => (i * 7) % 256)));

  it('a truncated file names the file and says it is truncated or corrupt', () => {
    const path = join(dir, 'truncated-idx3-ubyte.gz');
    writeFileSync(path, zipped.subarray(0, Math.floor(zipped.length / 2)));
    expect(() => readIdxFile(path)).toThrow(`readIdxFile: ${path} is a truncated or corrupt gzip file (unexpected end of file); download or install it again`);
  });

  it('a corrupt file (damaged compressed data) names the file', () => {
    const path = join(dir, 'corrupt-idx3-ubyte.gz');
    const bytes = zipped.slice();
    bytes.fill(0xff, 20, 60);
    writeFileSync(path, bytes);
    expect(() => readIdxFile(path)).toThrow(new RegExp(`^readIdxFile: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is a truncated or corrupt gzip file \\(.+\\)`));
  });

  it('loadFashionMnist passes the name of the damaged file on', () => {
    writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), zipped.subarray(0, 100));
    expect(() => loadFashionMnist({ split: 'test', dir })).toThrow(`${join(dir, 't10k-images-idx3-ubyte.gz')} is a truncated or corrupt gzip file`);
  });
});
