// The playground's configuration: what it trains and how. It lives in the URL's query string so
// that a view can be shared; a value that does not parse falls back to its default, and the page
// shows what was replaced and why.
import { NORM_KINDS, type NormKind } from '@welford/layers';

export const DATASETS = ['mnist', 'fashion-mnist', 'shapes'] as const;
export const MODELS = ['cnn', 'resnet', 'unet'] as const;
export const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;

export type DatasetName = (typeof DATASETS)[number];
export type ModelName = (typeof MODELS)[number];
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** Everything a run is made from; every field has a URL key (see `KEYS`). */
export interface PlaygroundConfig {
  dataset: DatasetName;
  /** 'cnn' (conv–norm–ReLU ×3), 'resnet' (pre-activation), 'unet' (segmentation; shapes only). */
  model: ModelName;
  /** resnet: 8, 14 or 20 weighted layers; unet: 2 or 3 poolings; cnn: unused (3 stages). */
  depth: number;
  /** Channels of the first stage (later stages double it). */
  width: number;
  norm: NormKind;
  /** Groups of group norm; must divide `width` (and so every stage's channels). */
  groups: number;
  batch: number;
  optimizer: OptimizerName;
  lr: number;
  weightDecay: number;
  /** Seeds the initial weights and the order of the batches. */
  seed: number;
  /** Statistics probes read every K steps. */
  statsEvery: number;
  /** Evaluate on the test subset every N steps. */
  evalEvery: number;
  /** Test samples each evaluation uses (the first ones of the test split). */
  testSamples: number;
}

/** Per dataset: its task, its label and torchvision's usual normalization constants. */
export const DATASET_INFO: Record<DatasetName, { label: string; task: 'classification' | 'segmentation'; normalize: { mean: number[]; std: number[] } | null }> = {
  mnist: { label: 'MNIST digits', task: 'classification', normalize: { mean: [0.1307], std: [0.3081] } },
  'fashion-mnist': { label: 'Fashion-MNIST', task: 'classification', normalize: { mean: [0.286], std: [0.353] } },
  shapes: { label: 'Synthetic shapes (segmentation)', task: 'segmentation', normalize: null },
};

export const MODEL_LABELS: Record<ModelName, string> = { cnn: 'Small CNN', resnet: 'Pre-activation ResNet', unet: 'U-Net' };
export const NORM_LABELS: Record<NormKind, string> = {
  batch: 'Batch norm',
  group: 'Group norm',
  layer: 'Layer norm',
  instance: 'Instance norm',
  batchrenorm: 'Batch renorm',
  none: 'None',
};
export const OPTIMIZER_LABELS: Record<OptimizerName, string> = { sgd: 'SGD + momentum 0.9', adam: 'Adam', adamw: 'AdamW' };
/** Depths each model offers (the first is the default). */
export const DEPTHS: Record<ModelName, readonly number[]> = { cnn: [3], resnet: [8, 14, 20], unet: [2, 3] };
export const WIDTHS = [4, 8, 16, 32] as const;
export const GROUP_CHOICES = [1, 2, 4, 8, 16] as const;
/** A learning rate that trains each optimizer well from the start. */
export const DEFAULT_LR: Record<OptimizerName, number> = { sgd: 0.05, adam: 0.002, adamw: 0.002 };

export const DEFAULT_CONFIG: Readonly<PlaygroundConfig> = Object.freeze({
  dataset: 'mnist',
  model: 'cnn',
  depth: 3,
  width: 8,
  norm: 'batch',
  groups: 4,
  batch: 32,
  optimizer: 'sgd',
  lr: 0.05,
  weightDecay: 0,
  seed: 1,
  statsEvery: 10,
  evalEvery: 50,
  testSamples: 500,
});

/** URL keys, in the order the query string lists them. */
export const KEYS: Record<keyof PlaygroundConfig, string> = {
  dataset: 'dataset',
  model: 'model',
  depth: 'depth',
  width: 'width',
  norm: 'norm',
  groups: 'groups',
  batch: 'batch',
  optimizer: 'opt',
  lr: 'lr',
  weightDecay: 'wd',
  seed: 'seed',
  statsEvery: 'every',
  evalEvery: 'eval',
  testSamples: 'test',
};

type Parser = (raw: string) => { value: unknown } | { why: string };

const oneOf =
  (values: readonly (string | number)[]): Parser =>
  (raw) => {
    const v = values.find((x) => String(x) === raw);
    return v === undefined ? { why: `expected one of ${values.join(', ')}` } : { value: v };
  };

const integer =
  (min: number, max: number): Parser =>
  (raw) => {
    const n = Number(raw);
    return /^\d+$/.test(raw) && n >= min && n <= max ? { value: n } : { why: `expected an integer from ${min} to ${max}` };
  };

const decimal =
  (min: number, max: number, minExclusive: boolean): Parser =>
  (raw) => {
    const n = Number(raw);
    const ok = raw.trim() !== '' && Number.isFinite(n) && (minExclusive ? n > min : n >= min) && n <= max;
    return ok ? { value: n } : { why: `expected a number ${minExclusive ? '>' : '≥'} ${min} and ≤ ${max}` };
  };

const PARSERS: Record<keyof PlaygroundConfig, Parser> = {
  dataset: oneOf(DATASETS),
  model: oneOf(MODELS),
  depth: oneOf([...new Set(Object.values(DEPTHS).flat())]),
  width: oneOf(WIDTHS),
  norm: oneOf(NORM_KINDS),
  groups: oneOf(GROUP_CHOICES),
  batch: integer(1, 256),
  optimizer: oneOf(OPTIMIZERS),
  lr: decimal(0, 10, true),
  weightDecay: decimal(0, 1, false),
  seed: integer(0, 2 ** 31 - 1),
  statsEvery: integer(1, 1000),
  evalEvery: integer(1, 100000),
  testSamples: integer(16, 2000),
};

/** The model a dataset needs when the chosen one cannot train on it. */
export function modelFor(dataset: DatasetName, model: ModelName): ModelName {
  if (DATASET_INFO[dataset].task === 'segmentation') return 'unet';
  return model === 'unet' ? 'cnn' : model;
}

/**
 * Makes a configuration consistent (U-Net with shapes only, a depth the model has, groups that
 * divide the width) and says what it changed.
 */
export function reconcile(config: PlaygroundConfig): { config: PlaygroundConfig; changes: string[] } {
  const c = { ...config };
  const changes: string[] = [];
  const model = modelFor(c.dataset, c.model);
  if (model !== c.model) {
    changes.push(`${MODEL_LABELS[c.model]} cannot train on ${DATASET_INFO[c.dataset].label}; using ${MODEL_LABELS[model]}`);
    c.model = model;
  }
  if (!DEPTHS[c.model].includes(c.depth)) {
    if (c.model !== 'cnn') changes.push(`depth ${c.depth} is not offered for ${MODEL_LABELS[c.model]} (${DEPTHS[c.model].join(', ')}); using ${DEPTHS[c.model][0]}`);
    c.depth = DEPTHS[c.model][0];
  }
  if (c.width % c.groups !== 0) {
    const groups = [...GROUP_CHOICES].reverse().find((g) => g <= c.groups && c.width % g === 0) ?? 1;
    changes.push(`${c.groups} groups do not divide width ${c.width}; using ${groups}`);
    c.groups = groups;
  }
  return { config: c, changes };
}

/** Reads a configuration from a query string; anything that does not parse is replaced by its default and listed in `problems`. */
export function parseQuery(search: string): { config: PlaygroundConfig; problems: string[]; given: boolean } {
  const params = new URLSearchParams(search);
  const config: PlaygroundConfig = { ...DEFAULT_CONFIG };
  const problems: string[] = [];
  const known = new Set(Object.values(KEYS));
  for (const key of new Set(params.keys())) if (!known.has(key)) problems.push(`unknown setting "${key}"`);
  let given = false;
  for (const field of Object.keys(KEYS) as (keyof PlaygroundConfig)[]) {
    const raw = params.get(KEYS[field]);
    if (raw === null) continue;
    given = true;
    const parsed = PARSERS[field](raw);
    if ('value' in parsed) (config as unknown as Record<string, unknown>)[field] = parsed.value;
    else problems.push(`${KEYS[field]}=${JSON.stringify(raw)}: ${parsed.why}; using ${String(DEFAULT_CONFIG[field])}`);
  }
  if (!params.has(KEYS.lr)) config.lr = DEFAULT_LR[config.optimizer];
  if (!params.has(KEYS.depth)) config.depth = DEPTHS[modelFor(config.dataset, config.model)][0];
  const { config: fixed, changes } = reconcile(config);
  return { config: fixed, problems: [...problems, ...changes], given };
}

/** The query string of a configuration: every setting, in a fixed order (so equal configurations give equal URLs). */
export function toQuery(config: PlaygroundConfig): string {
  const params = new URLSearchParams();
  for (const field of Object.keys(KEYS) as (keyof PlaygroundConfig)[]) params.set(KEYS[field], String(config[field]));
  return params.toString();
}

/** What fixes the shapes of the weights: two configurations with the same key can share a checkpoint. */
export function architectureKey(c: PlaygroundConfig): string {
  return [c.dataset, c.model, c.depth, c.width, c.norm, c.groups].join('/');
}

/** "Small CNN (width 8) · batch norm · MNIST digits". */
export function describeArchitecture(c: PlaygroundConfig): string {
  const depth = c.model === 'cnn' ? '' : ` ${c.model === 'resnet' ? 'depth' : 'levels'} ${c.depth},`;
  const norm = c.norm === 'group' ? `group norm (${c.groups} groups)` : NORM_LABELS[c.norm].toLowerCase();
  return `${MODEL_LABELS[c.model]} (${depth} width ${c.width}) · ${norm} · ${DATASET_INFO[c.dataset].label}`.replace('( ', '(');
}
