// The packed dataset files the page fetches (written by scripts/pack_data.ts) and the manifest
// that lists them. Shared by the script and the page, so the names are written once.

/** File names under public/data/, per dataset and split. */
export const DATA_FILES = {
  mnist: { train: 'mnist-digits-train.wfds', test: 'mnist-digits-test.wfds' },
  'fashion-mnist': { train: 'fashion-mnist-train.wfds', test: 'fashion-mnist-test.wfds' },
  shapes: { train: 'synthetic-shapes-train.wfds', test: 'synthetic-shapes-test.wfds' },
} as const;

/** One packed split as the manifest describes it. */
export interface SplitInfo {
  file: string;
  count: number;
  shape: [number, number, number];
  classes: string[];
}

/** public/data/datasets.json: the datasets this build ships (a missing one is unavailable). */
export type DatasetManifest = Partial<Record<keyof typeof DATA_FILES, { train: SplitInfo; test: SplitInfo }>>;
