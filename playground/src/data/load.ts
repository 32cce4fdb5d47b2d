// Fetching the packed datasets the build ships (public/data/) and unpacking them in memory.
import { unpackDataset, type LabeledImages, type MaskedImages } from '@welford/data';
import type { DatasetName } from '../config.ts';
import type { DatasetManifest } from './files.ts';

/** A dataset as bytes in memory, as `unpackDataset` gives it. */
export type ByteDataset = LabeledImages | MaskedImages;

/** The two splits of a dataset. */
export interface Splits {
  train: ByteDataset;
  test: ByteDataset;
}

let manifest: Promise<DatasetManifest> | null = null;
const loaded = new Map<DatasetName, Promise<Splits>>();

async function fetchBytes(file: string): Promise<ArrayBuffer> {
  const response = await fetch(`data/${file}`);
  if (!response.ok) throw new Error(`could not fetch data/${file}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

/** The datasets this build ships (public/data/datasets.json, written by scripts/pack_data.ts). */
export function datasetManifest(): Promise<DatasetManifest> {
  manifest ??= fetch('data/datasets.json').then(async (r) => {
    if (!r.ok) throw new Error(`no dataset manifest (data/datasets.json: HTTP ${r.status}); run \`pnpm playground\`, which packs the datasets first`);
    return (await r.json()) as DatasetManifest;
  });
  return manifest;
}

/** Fetches and unpacks both splits of a dataset (once; later calls share the result). */
export function loadDataset(name: DatasetName): Promise<Splits> {
  let splits = loaded.get(name);
  if (!splits) {
    splits = (async () => {
      const info = (await datasetManifest())[name];
      if (!info) throw new Error(`the dataset "${name}" is not part of this build (its source was missing when the data was packed)`);
      const [train, test] = await Promise.all([fetchBytes(info.train.file), fetchBytes(info.test.file)]);
      return { train: unpackDataset(train), test: unpackDataset(test) };
    })();
    // A failed fetch is not cached, so choosing the dataset again retries.
    splits.catch(() => loaded.delete(name));
    loaded.set(name, splits);
  }
  return splits;
}
