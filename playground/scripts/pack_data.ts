// Writes the playground's datasets as packed binary files (public/data/*.wfds) with a manifest
// (public/data/datasets.json) that the page reads to know what it can offer. Modest subsets keep
// the page quick to load. Files already there are kept (pass --force to rewrite them); a dataset
// whose source is missing on this machine (Debian's Fashion-MNIST package) is left out of the
// manifest with a warning, and the page says it is unavailable.
//   tsx scripts/pack_data.ts [--force]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packDataset, quantizeDataset, subset, SyntheticShapes, type LabeledImages, type MaskedImages } from '@welford/data';
import { loadFashionMnist, loadMnistDigits } from '@welford/data/node';
import { DATA_FILES, type DatasetManifest, type SplitInfo } from '../src/data/files.ts';

const out = fileURLToPath(new URL('../public/data/', import.meta.url));
const force = process.argv.includes('--force');

/** The first `n` samples of a byte dataset, as byte images again. */
function first(set: LabeledImages | MaskedImages, n: number): LabeledImages | MaskedImages {
  if (n >= set.length) return set;
  const indices = Array.from({ length: n }, (_, i) => i);
  return set.kind === 'labels' ? quantizeDataset(subset(set, indices)) : quantizeDataset(subset(set, indices));
}

/** How each split is made: a loader and the number of samples kept. */
const SOURCES: Record<keyof typeof DATA_FILES, { train: () => LabeledImages | MaskedImages; test: () => LabeledImages | MaskedImages; limits: [number, number] }> = {
  mnist: { train: () => loadMnistDigits({ split: 'train' }), test: () => loadMnistDigits({ split: 'test' }), limits: [8000, 2004] },
  'fashion-mnist': { train: () => loadFashionMnist({ split: 'train' }), test: () => loadFashionMnist({ split: 'test' }), limits: [10000, 2000] },
  shapes: {
    train: () => quantizeDataset(new SyntheticShapes({ length: 2000, size: 32, seed: 1 })),
    test: () => quantizeDataset(new SyntheticShapes({ length: 200, size: 32, seed: 2 })),
    limits: [2000, 200],
  },
};

function describe(set: LabeledImages | MaskedImages, file: string): SplitInfo {
  return { file, count: set.length, shape: [...set.shape] as [number, number, number], classes: [...set.classes] };
}

mkdirSync(out, { recursive: true });
const manifestPath = join(out, 'datasets.json');

/** Whether a previous run wrote the manifest and every file it lists. */
function upToDate(): boolean {
  if (!existsSync(manifestPath)) return false;
  const old = JSON.parse(readFileSync(manifestPath, 'utf8')) as DatasetManifest;
  return Object.values(old).every((d) => d && existsSync(join(out, d.train.file)) && existsSync(join(out, d.test.file)));
}

if (!force && upToDate()) {
  console.log('playground data: up to date (public/data; --force rewrites it)');
  process.exit(0);
}
const manifest: DatasetManifest = {};
for (const [name, files] of Object.entries(DATA_FILES) as [keyof typeof DATA_FILES, (typeof DATA_FILES)[keyof typeof DATA_FILES]][]) {
  const source = SOURCES[name];
  try {
    const info: Partial<Record<'train' | 'test', SplitInfo>> = {};
    for (const [i, split] of (['train', 'test'] as const).entries()) {
      const path = join(out, files[split]);
      const set = first(source[split](), source.limits[i]);
      if (force || !existsSync(path)) {
        const bytes = packDataset(set);
        writeFileSync(path, bytes);
        console.log(`playground data: ${files[split]} (${set.length} samples, ${(bytes.length / 1024).toFixed(0)} KiB)`);
      }
      info[split] = describe(set, files[split]);
    }
    manifest[name] = { train: info.train!, test: info.test! };
  } catch (e) {
    console.warn(`playground data: ${name} left out: ${(e as Error).message.split('\n')[0]}`);
  }
}
writeFileSync(manifestPath, `${JSON.stringify(manifest)}\n`);
