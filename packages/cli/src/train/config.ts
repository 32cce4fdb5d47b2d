// What a training run is: the model, the data, the optimizer and the schedule, with every
// default filled in and every combination checked before anything is built. Browser-safe: the
// page that trains in Chromium resolves the same configuration.
import { smallCnnStages } from '@welford/layers';
import { UsageError } from '../errors.ts';

export const MODELS = ['small-cnn', 'preact-resnet', 'unet'] as const;
export const NORMS = ['batch', 'group', 'layer', 'instance', 'batch-renorm', 'none'] as const;
export const DATASETS = ['mnist', 'fashion-mnist', 'shapes'] as const;
export const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
export const SCHEDULES = ['none', 'step', 'cosine'] as const;
export const AUGMENTATIONS = ['crop', 'flip', 'mixup'] as const;

export type ModelName = (typeof MODELS)[number];
export type NormName = (typeof NORMS)[number];
export type DatasetName = (typeof DATASETS)[number];
export type OptimizerName = (typeof OPTIMIZERS)[number];
export type ScheduleName = (typeof SCHEDULES)[number];
export type Augmentation = (typeof AUGMENTATIONS)[number];

/** Version of the stored configuration (checkpoint metadata, run.json). */
export const CONFIG_VERSION = 2;

/**
 * Conv stages of small-cnn by default: four (widths w, 2w, 2w, 4w; strides 1, 2, 1, 2). The
 * fourth stage sees the whole 28×28 digit before global average pooling; three stages (model S)
 * see 11×11 patches and stay near 97 % on MNIST digits.
 */
export const SMALL_CNN_DEPTH = 4;

/** A training run, complete: what `resolveConfig` returns and what checkpoints remember. */
export interface TrainConfig {
  model: ModelName;
  /** small-cnn: conv stages; preact-resnet: weighted layers (6n+2); unet: poolings. */
  depth: number | null;
  /** Channels of the first stage (small-cnn: w, 2w, 2w, 4w, ...; preact-resnet: w, 2w, 4w; unet: w·2^level). */
  width: number;
  norm: NormName;
  /** Groups of group norm (the other norms ignore it). */
  groups: number;
  dataset: DatasetName;
  /** Side of the synthetic shapes images; null for the MNIST-like datasets (28). */
  imageSize: number | null;
  /** Train on the first N training samples only (null: all). */
  trainLimit: number | null;
  /** Evaluate on the first N test samples only (null: all). */
  testLimit: number | null;
  batch: number;
  epochs: number;
  /** Stop after this many optimizer steps in all (null: run every epoch). */
  steps: number | null;
  optimizer: OptimizerName;
  lr: number;
  /** SGD's momentum (0 for Adam and AdamW, which do not take one). */
  momentum: number;
  weightDecay: number;
  schedule: ScheduleName;
  /** Steps of linear learning-rate warm-up (0: none). */
  warmup: number;
  /** Maximum 2-norm of the gradients (null: no clipping). */
  clip: number | null;
  augment: Augmentation[];
  seed: number;
  /** Statistics probes read every K steps (0: no probes). */
  statsEvery: number;
  /** The loss and accuracy are read, printed and logged every K steps. */
  logEvery: number;
  /** Data-parallel replicas, a device each (1: one device). */
  replicas: number;
  /** Batch norm normalizes with the whole batch across the replicas (synchronised batch norm). */
  syncBn: boolean;
}

/** Per dataset: what it is and how its images are normalized (torchvision's usual constants). */
export const DATASET_INFO: Record<DatasetName, { task: 'classification' | 'segmentation'; classes: number; normalize: { mean: number[]; std: number[] } | null }> = {
  mnist: { task: 'classification', classes: 10, normalize: { mean: [0.1307], std: [0.3081] } },
  'fashion-mnist': { task: 'classification', classes: 10, normalize: { mean: [0.286], std: [0.353] } },
  shapes: { task: 'segmentation', classes: 4, normalize: null },
};

/** Synthetic shapes: images per split (seeds 1 and 2) and the default side. */
export const SHAPES_SPLITS = { train: 1000, test: 200, seed: { train: 1, test: 2 }, size: 32 } as const;

const list = (values: readonly string[]): string => values.join(', ');

function choice<T extends string>(flag: string, what: string, values: readonly T[], value: unknown): T {
  if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`unknown ${what} "${String(value)}" for ${flag} (${what}s: ${list(values)})`);
}

function integer(flag: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new UsageError(`${flag} must be an integer >= ${min}, got ${String(value)}`);
  return value;
}

function positive(flag: string, value: unknown, { allowZero = false, below }: { allowZero?: boolean; below?: number } = {}): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && (allowZero ? value >= 0 : value > 0) && (below === undefined || value < below);
  if (!ok) throw new UsageError(`${flag} must be a finite number ${allowZero ? '>= 0' : '> 0'}${below === undefined ? '' : ` and < ${below}`}, got ${String(value)}`);
  return value as number;
}

/** The channel counts a model's norms see, for checking that groups divide them. */
function normChannels(model: ModelName, width: number, depth: number | null): number[] {
  if (model === 'small-cnn') return smallCnnStages(depth ?? SMALL_CNN_DEPTH, width).widths;
  if (model === 'preact-resnet') return [width, 2 * width, 4 * width];
  return Array.from({ length: (depth ?? 0) + 1 }, (_, i) => width * 2 ** i);
}

/**
 * Fills in the defaults of a run and checks every value and combination, throwing a
 * `UsageError` that names the flag and lists the valid choices. `given` holds what the user
 * set (undefined: not given).
 */
export function resolveConfig(given: Partial<TrainConfig>): TrainConfig {
  for (const [key, flag] of [['model', '--model'], ['norm', '--norm'], ['dataset', '--dataset']] as const) {
    if (given[key] === undefined) {
      const values = key === 'model' ? MODELS : key === 'norm' ? NORMS : DATASETS;
      throw new UsageError(`missing ${flag} (${list(values)})`);
    }
  }
  const model = choice('--model', 'model', MODELS, given.model);
  const norm = choice('--norm', 'norm', NORMS, given.norm);
  const dataset = choice('--dataset', 'dataset', DATASETS, given.dataset);
  const info = DATASET_INFO[dataset];

  const wantsSegmentation = model === 'unet';
  if (wantsSegmentation !== (info.task === 'segmentation')) {
    throw new UsageError(
      wantsSegmentation
        ? `unet is a segmentation model and ${dataset} a classification dataset: use --dataset shapes`
        : `${model} is a classifier and shapes a segmentation dataset (masks, not labels): use --model unet, or --dataset mnist or fashion-mnist`,
    );
  }

  let depth: number | null = null;
  if (model === 'small-cnn') {
    depth = integer('--depth', given.depth ?? SMALL_CNN_DEPTH, 1);
  } else if (model === 'preact-resnet') {
    depth = integer('--depth', given.depth ?? 8, 8);
    if ((depth - 2) % 6 !== 0) throw new UsageError(`--depth of preact-resnet must be 6n+2 (8, 14, 20, 26, ...), got ${depth}`);
  } else {
    depth = integer('--depth', given.depth ?? 3, 1);
  }
  const width = integer('--width', given.width ?? 16, 1);
  const groups = integer('--groups', given.groups ?? 8, 1);
  if (norm === 'group') {
    const bad = normChannels(model, width, depth).find((c) => c % groups !== 0);
    if (bad !== undefined) throw new UsageError(`--groups ${groups} does not divide the ${bad} channels of a ${model} of --width ${width}: group norm splits the channels into equal groups (try --groups ${gcd(width, groups)})`);
  }

  let imageSize: number | null = null;
  if (dataset === 'shapes') imageSize = integer('--image-size', given.imageSize ?? SHAPES_SPLITS.size, 4);
  else if (given.imageSize !== undefined && given.imageSize !== null) throw new UsageError(`--image-size applies to --dataset shapes only (${dataset} images are 28x28)`);
  if (model === 'unet' && imageSize !== null && imageSize < 2 ** (depth ?? 0)) {
    throw new UsageError(`unet of --depth ${depth} halves the image ${depth} times and needs --image-size >= ${2 ** (depth ?? 0)}, got ${imageSize}`);
  }

  const batch = integer('--batch', given.batch ?? 32, 1);
  if (batch === 1 && (norm === 'batch' || norm === 'batch-renorm')) {
    throw new UsageError(
      `--batch 1 with --norm ${norm}: batch statistics of one sample are degenerate (the "batch" mean and variance are that sample's own, so training normalizes each image by itself and evaluation's running averages do not match it); use --norm group (or layer, instance), or a batch of at least 2`,
    );
  }

  const optimizer = choice('--optimizer', 'optimizer', OPTIMIZERS, given.optimizer ?? 'sgd');
  if (optimizer !== 'sgd' && given.momentum !== undefined) throw new UsageError(`--momentum applies to --optimizer sgd; ${optimizer} uses betas (0.9, 0.999)`);
  const schedule = choice('--schedule', 'schedule', SCHEDULES, given.schedule ?? 'none');
  const augment = [...new Set(given.augment ?? [])];
  for (const a of augment) choice('--augment', 'augmentation', AUGMENTATIONS, a);
  if (augment.includes('mixup') && info.task === 'segmentation') throw new UsageError('--augment mixup mixes class labels and needs a classification dataset (mnist, fashion-mnist), not shapes');

  const replicas = integer('--replicas', given.replicas ?? 1, 1);
  const syncBn = given.syncBn ?? false;
  if (syncBn && replicas < 2) throw new UsageError('--sync-bn synchronises batch norm across data-parallel replicas: give --replicas 2 or more');
  if (syncBn && norm !== 'batch') throw new UsageError(`--sync-bn synchronises batch norm; --norm ${norm} ${norm === 'batch-renorm' ? 'has no synchronised form' : 'takes no statistics across the batch'} (use --norm batch)`);
  if (batch < replicas) throw new UsageError(`--batch ${batch} cannot be split across --replicas ${replicas}: every replica needs at least one sample of each batch`);

  return {
    model,
    depth,
    width,
    norm,
    groups,
    dataset,
    imageSize,
    trainLimit: given.trainLimit == null ? null : integer('--train-limit', given.trainLimit, 1),
    testLimit: given.testLimit == null ? null : integer('--test-limit', given.testLimit, 1),
    batch,
    epochs: integer('--epochs', given.epochs ?? 1, 1),
    steps: given.steps == null ? null : integer('--steps', given.steps, 1),
    optimizer,
    lr: positive('--lr', given.lr ?? (optimizer === 'sgd' ? 0.05 : 0.001)),
    momentum: optimizer === 'sgd' ? positive('--momentum', given.momentum ?? 0.9, { allowZero: true, below: 1 }) : 0,
    weightDecay: positive('--weight-decay', given.weightDecay ?? (optimizer === 'adamw' ? 0.01 : 0), { allowZero: true }),
    schedule,
    warmup: integer('--warmup', given.warmup ?? 0, 0),
    clip: given.clip == null ? null : positive('--clip', given.clip),
    augment,
    seed: integer('--seed', given.seed ?? 1, 0),
    statsEvery: integer('--stats-every', given.statsEvery ?? 10, 0),
    logEvery: integer('--log-every', given.logEvery ?? 10, 1),
    replicas,
    syncBn,
  };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** The side of the dataset's images. */
export function imageSide(config: TrainConfig): number {
  return config.imageSize ?? 28;
}

/** One line naming the run: "small-cnn (batch norm) on mnist, batch 32, sgd lr 0.05 momentum 0.9". */
export function describeConfig(c: TrainConfig): string {
  const arch = `${c.model} depth ${c.depth} width ${c.width}`;
  const norm = c.norm === 'group' ? `group norm, ${c.groups} groups` : `${c.norm} norm`;
  const opt = c.optimizer === 'sgd' ? `sgd lr ${c.lr} momentum ${c.momentum}` : `${c.optimizer} lr ${c.lr}`;
  const extras = [
    c.weightDecay > 0 ? `weight decay ${c.weightDecay}` : '',
    c.schedule !== 'none' ? `${c.schedule} schedule` : '',
    c.warmup > 0 ? `warm-up ${c.warmup}` : '',
    c.clip !== null ? `clip ${c.clip}` : '',
    c.augment.length > 0 ? `augment ${c.augment.join(',')}` : '',
    c.replicas > 1 ? `${c.replicas} replicas${c.syncBn ? ', synchronised batch norm' : ''}` : '',
  ].filter((s) => s !== '');
  return `${arch} (${norm}) on ${c.dataset}, batch ${c.batch}, ${opt}${extras.length ? `, ${extras.join(', ')}` : ''}`;
}
