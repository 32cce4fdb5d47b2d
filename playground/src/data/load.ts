// Fetching the packed datasets the build ships (public/data/) and unpacking them in memory.
import { unpackDataset, type LabeledImages, type MaskedImages } from '@welford/data';
import type { DatasetName } from '../config.ts';
import { readWithProgress, type ByteProgress } from './fetch_progress.ts';
import type { DatasetManifest } from './files.ts';

/** A dataset as bytes in memory, as `unpackDataset` gives it. */
export type ByteDataset = LabeledImages | MaskedImages;

/** The two splits of a dataset. */
export interface Splits {
  train: ByteDataset;
  test: ByteDataset;
}

let manifest: Promise<DatasetManifest> | null = null;

/** What a dataset load reports: the bytes of both splits fetched so far, then their unpacking. */
export type LoadProgress = (p: { stage: 'fetch'; loaded: number; total: number | null } | { stage: 'unpack' }) => void;

interface Load {
  splits: Promise<Splits>;
  listeners: Set<LoadProgress>;
}

const loaded = new Map<DatasetName, Load>();

async function fetchBytes(file: string, onBytes: ByteProgress): Promise<ArrayBuffer> {
  const response = await fetch(`data/${file}`);
  if (!response.ok) throw new Error(`could not fetch data/${file}: HTTP ${response.status}`);
  return readWithProgress(response, onBytes);
}

/** The datasets this build ships (public/data/datasets.json, written by scripts/pack_data.ts). */
export function datasetManifest(): Promise<DatasetManifest> {
  manifest ??= fetch('data/datasets.json').then(async (r) => {
    if (!r.ok) throw new Error(`no dataset manifest (data/datasets.json: HTTP ${r.status}); run \`pnpm playground\`, which packs the datasets first`);
    return (await r.json()) as DatasetManifest;
  });
  return manifest;
}

/**
 * Fetches and unpacks both splits of a dataset (once; later calls share the result), telling
 * `onProgress` how far it got (a call that joins a load in flight hears the rest of it).
 */
export function loadDataset(name: DatasetName, onProgress?: LoadProgress): Promise<Splits> {
  let load = loaded.get(name);
  if (!load) {
    const listeners = new Set<LoadProgress>();
    const tell: LoadProgress = (p) => listeners.forEach((l) => l(p));
    const splits = (async () => {
      const info = (await datasetManifest())[name];
      if (!info) throw new Error(`the dataset "${name}" is not part of this build (its source was missing when the data was packed)`);
      // Bytes per split, summed: the total is known once both servers' answers say their length.
      const bytes = [0, 0];
      const totals: (number | null)[] = [null, null];
      const onBytes = (i: number) => (got: number, total: number | null) => {
        bytes[i] = got;
        totals[i] = total;
        tell({ stage: 'fetch', loaded: bytes[0] + bytes[1], total: totals.every((t) => t !== null) ? totals[0]! + totals[1]! : null });
      };
      const [train, test] = await Promise.all([fetchBytes(info.train.file, onBytes(0)), fetchBytes(info.test.file, onBytes(1))]);
      tell({ stage: 'unpack' });
      // Unpacking takes a moment on a slow machine: let the page say so first.
      await new Promise((resolve) => setTimeout(resolve, 0));
      return { train: unpackDataset(train), test: unpackDataset(test) };
    })();
    load = { splits, listeners };
    // A failed fetch is not cached, so choosing the dataset again retries.
    splits.catch(() => loaded.delete(name));
    void splits.finally(() => listeners.clear()).catch(() => undefined);
    loaded.set(name, load);
  }
  if (onProgress) load.listeners.add(onProgress);
  return load.splits;
}
