// Packs every dataset for the browser: tsx packages/data/scripts/pack.ts [--out DIR] [--limit N] [--shapes N]
// Default output: packages/data/packed/ (git-ignored; the files are generated, not committed).
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writePackedDatasets } from '../src/node/index.ts';

const { values } = parseArgs({ options: { out: { type: 'string' }, limit: { type: 'string' }, shapes: { type: 'string' } } });
const count = (flag: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`pack: --${flag} must be a positive integer, got ${v}`);
  return n;
};
const out = values.out ?? fileURLToPath(new URL('../packed/', import.meta.url));
for (const { path, bytes } of writePackedDatasets(out, { limit: count('limit', values.limit), shapes: count('shapes', values.shapes) })) {
  console.log(`${path}\t${(bytes / 1024).toFixed(0)} KiB`);
}
