// Node: `welford adapt --checkpoint FILE`. How a trained model fares when its test images are
// shifted (brightness and contrast), and how much re-estimating its batch-norm statistics on
// unlabeled shifted images recovers: accuracy on the clean test split, on the shifted one with
// the stored statistics, after few-shot adaptation (adaptBatchNorm) with --shots shifted
// training images, and optionally after precise batch norm (preciseBatchNorm) on the shifted
// training split. The checkpoint is only read; an existing --json file is replaced only with
// --overwrite.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Random, type Tensor } from '@welford/core';
import { DataLoader, intensityShifted, normalize, permutation, quantizeDataset, subset, type IntensityShiftOptions, type Sample } from '@welford/data';
import { adaptBatchNorm, preciseBatchNorm, type RunningStatsUpdate } from '@welford/layers';
import { RunError, UsageError } from '../errors.ts';
import { checkNoEarlierFiles } from '../existing_outputs.ts';
import { startBackend } from './backend_node.ts';
import { flagInteger, flagNumber } from './flag_numbers.ts';
import { checkpointConfig, loadCheckpointInto, readCheckpointFile } from './checkpoint_file.ts';
import { DATASET_INFO, describeConfig, type TrainConfig } from './config.ts';
import { firstSamples, type ByteDataset, type TrainingData } from './data_pipeline.ts';
import { loadDatasets } from './datasets_node.ts';
import { CONFIG_METADATA_KEY } from './metadata.ts';
import { writeAtomic } from './atomic_file.ts';
import { toJsonText } from '@welford/stats';
import { userPath } from './outputs.ts';
import type { TextOut } from './progress.ts';
import { buildModel } from './model.ts';
import { evaluateTest } from './run_training.ts';
import type { TestMetrics } from './step_log.ts';

/** What `welford adapt` takes. */
export interface AdaptOptions {
  checkpoint: string;
  /** Unlabeled shifted training samples for few-shot adaptation. */
  shots: number;
  brightness: number;
  contrast: number;
  /** k of adaptBatchNorm: how many samples the stored statistics are worth. */
  priorStrength: number;
  /** Which training samples are the shots, and the order of precise batch norm's batches. */
  seed: number;
  /** Precise batch norm on the first N shifted training samples ('all': the whole split); null: not run. */
  precise: number | 'all' | null;
  testLimit: number | null;
  json: string | null;
  /** Replace an existing --json file (default false: refuse it). */
  overwrite: boolean;
  cpu: boolean;
}

/**
 * The defaults: a brightness lift of 0.3 and 60 % of the contrast (around each image's mean) on
 * [0, 1] intensities, which takes a small CNN on Fashion-MNIST to chance (docs/adaptation.md);
 * 32 shots; a prior worth 4 samples (32 shots weigh 32/36). Under that shift smaller priors did
 * better: the stored statistics describe the wrong distribution, and 32 images give each
 * channel thousands of values already.
 */
export const ADAPT_DEFAULTS = { shots: 32, brightness: 0.3, contrast: 0.6, priorStrength: 4, seed: 1 } as const;

const BOOLEAN = ['--overwrite', '--cpu'] as const;
const FLAGS = ['--checkpoint', '--shots', '--brightness', '--contrast', '--prior-strength', '--seed', '--precise', '--test-limit', '--json', ...BOOLEAN] as const;
type Flag = (typeof FLAGS)[number];

// Every number flag of welford adapt takes "inf" (--prior-strength inf keeps the stored statistics).
const number = (flag: string, raw: string): number => flagNumber(flag, raw, true);
const integer = (flag: string, raw: string, min: number): number => flagInteger(flag, raw, min, true);

/** Parses `welford adapt ARGS` (`--flag value` or `--flag=value`); every mistake is a UsageError. */
export function parseAdaptArgs(args: readonly string[]): AdaptOptions {
  const o: AdaptOptions = { checkpoint: '', ...ADAPT_DEFAULTS, precise: null, testLimit: null, json: null, overwrite: false, cpu: false };
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}" (welford adapt takes only flags: ${FLAGS.join(' ')})`);
    const eq = arg.indexOf('=');
    const [flag, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    if (!(FLAGS as readonly string[]).includes(flag)) throw new UsageError(`unknown option ${flag} for welford adapt; valid options: ${FLAGS.join(' ')}`);
    if (seen.has(flag)) throw new UsageError(`${flag} given twice`);
    seen.add(flag);
    if (flag === '--cpu' || flag === '--overwrite') {
      if (inline !== undefined) throw new UsageError(`${flag} takes no value, got "${inline}"`);
      if (flag === '--cpu') o.cpu = true;
      else o.overwrite = true;
      continue;
    }
    const raw = inline ?? args[++i];
    if (raw === undefined || raw === '' || (inline === undefined && raw.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
    switch (flag as Exclude<Flag, (typeof BOOLEAN)[number]>) {
      case '--checkpoint':
        o.checkpoint = raw;
        break;
      case '--shots':
        o.shots = integer(flag, raw, 1);
        break;
      case '--brightness':
        o.brightness = number(flag, raw);
        if (!Number.isFinite(o.brightness)) throw new UsageError(`--brightness must be finite, got ${raw}`);
        break;
      case '--contrast':
        o.contrast = number(flag, raw);
        if (!(o.contrast >= 0) || !Number.isFinite(o.contrast)) throw new UsageError(`--contrast must be a finite number >= 0 (1: unchanged, 0: flat images), got ${raw}`);
        break;
      case '--prior-strength':
        o.priorStrength = number(flag, raw);
        if (!(o.priorStrength >= 0)) throw new UsageError(`--prior-strength must be a number >= 0 (0: the shots' statistics alone; inf: the stored ones), got ${raw}`);
        break;
      case '--seed':
        o.seed = integer(flag, raw, 0);
        break;
      case '--precise':
        o.precise = raw === 'all' ? 'all' : integer(flag, raw, 2);
        break;
      case '--test-limit':
        o.testLimit = integer(flag, raw, 1);
        break;
      case '--json':
        o.json = raw;
        break;
    }
  }
  if (o.checkpoint === '') throw new UsageError('missing --checkpoint FILE (a checkpoint.safetensors that welford train wrote)');
  return o;
}

/** The checkpoint's bytes and the configuration stored with it (metadata, else run.json beside it). */
function readCheckpoint(path: string, testLimit: number | null): { bytes: Uint8Array; config: TrainConfig } {
  const { bytes, metadata } = readCheckpointFile(path);
  let config: TrainConfig | null;
  try {
    config = checkpointConfig(path, metadata, testLimit === null ? {} : { testLimit });
  } catch (e) {
    // The only flag on top is --test-limit, already checked: what fails is the checkpoint's.
    if (e instanceof UsageError) throw new RunError(`${path}: ${e.message}`);
    throw e;
  }
  if (config) return { bytes, config };
  throw new RunError(`${path} does not say how it was trained (no ${CONFIG_METADATA_KEY} metadata, no run.json beside it); welford adapt reads checkpoints that welford train wrote`);
}

/** The dataset (or the samples at `indices`) with every image shifted, stored back as bytes as a camera would store it. */
function shiftedBytes(set: ByteDataset, shift: IntensityShiftOptions, indices?: readonly number[]): ByteDataset {
  if (set.kind === 'labels') {
    const view = intensityShifted(set, shift);
    return quantizeDataset(indices ? subset(view, indices) : view);
  }
  const view = intensityShifted(set, shift);
  return quantizeDataset(indices ? subset(view, indices) : view);
}

/** A loader of `set` normalized as training normalized it. */
function loaderOf(config: TrainConfig, set: ByteDataset, options: { batchSize: number; shuffle?: boolean; seed?: number; dropLast?: boolean }): DataLoader<Sample> {
  const norm = DATASET_INFO[config.dataset].normalize;
  return new DataLoader<Sample>(set, { ...options, transform: norm ? normalize(norm) : undefined });
}

/** One row of the table: which test split, with which statistics, and the evaluation. */
export interface AdaptRow {
  row: 'clean' | 'shifted' | 'few-shot' | 'precise';
  testSet: 'clean' | 'shifted';
  statistics: string;
  test: TestMetrics;
}

function fixed(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : String(v);
}

/** The table's header and rows, columns aligned for the given labels, so rows print as they come. */
export function adaptTable(labels: readonly string[], miou: boolean): { header: string; line(row: AdaptRow): string } {
  const width = Math.max('batch-norm statistics'.length, ...labels.map((l) => l.length));
  return {
    header: `${'test set'.padEnd(9)}${'batch-norm statistics'.padEnd(width + 2)}${'loss'.padEnd(9)}accuracy${miou ? `${' '.repeat(18)}mIoU` : ''}`,
    line: (r) => {
      const acc = `${fixed(r.test.accuracy, 4)} (${r.test.correct}/${r.test.total})`;
      return `${r.testSet.padEnd(9)}${r.statistics.padEnd(width + 2)}${fixed(r.test.loss, 4).padEnd(9)}${miou ? `${acc.padEnd(26)}${r.test.miou === undefined ? '-' : fixed(r.test.miou, 4)}` : acc}`;
    },
  };
}

/** "  bn1  means moved 1.23 sd, spread x0.61  (BatchNorm2d, 16 channels)", one line per layer. */
function movedLines(updates: readonly RunningStatsUpdate[]): string {
  const width = Math.max(...updates.map((u) => u.name.length));
  return updates.map((u) => `  ${u.name.padEnd(width)}  means moved ${fixed(u.meanShift, 2)} sd, spread x${fixed(u.stdRatio, 2)}  (${u.type}, ${u.channels} channels)`).join('\n');
}

/** The first batch of a loader, its targets freed: the shots' images. */
function imagesOf(loader: DataLoader<Sample>): Tensor {
  for (const batch of loader.batches(0)) {
    const b = batch as { x: Tensor; y?: Tensor; mask?: Tensor };
    b.y?.dispose();
    b.mask?.dispose();
    return b.x;
  }
  throw new RunError('no shots to adapt with');
}

const summaryOf = (updates: readonly RunningStatsUpdate[]) => updates.map(({ name, type, channels, samples, values, targetWeight, meanShift, stdRatio }) => ({ name, type, channels, samples, values, targetWeight, meanShift, stdRatio }));

/** Runs `welford adapt ARGS`; returns the exit status (errors are thrown for main to report). */
export async function adaptCommand(args: readonly string[], out: TextOut = process.stdout): Promise<number> {
  const o = parseAdaptArgs(args);
  const path = userPath(o.checkpoint);
  const jsonPath = o.json === null ? null : userPath(o.json);
  // Before the checkpoint and the data are read, so that a refusal costs no work.
  if (jsonPath) checkNoEarlierFiles('the --json file', [jsonPath], '--json', o.overwrite);
  const { bytes, config } = readCheckpoint(path, o.testLimit);
  if (config.norm !== 'batch' && config.norm !== 'batch-renorm') {
    throw new RunError(`${path} was trained with --norm ${config.norm}: welford adapt re-estimates batch-norm statistics, and ${config.norm === 'none' ? 'a model without norm layers' : `${config.norm} norm`} keeps none (use a checkpoint trained with --norm batch or batch-renorm)`);
  }
  const data = loadDatasets(config, ['train', 'test']) as TrainingData;
  const shift: IntensityShiftOptions = { brightness: o.brightness, contrast: o.contrast, center: 'mean', clip: true };
  if (o.shots > data.train.length) throw new RunError(`--shots ${o.shots} is more than the ${data.train.length} samples of the ${config.dataset} training split`);
  const preciseCount = o.precise === null ? 0 : o.precise === 'all' ? data.train.length : Math.min(o.precise, data.train.length);
  if (o.precise !== null && preciseCount < config.batch) throw new RunError(`--precise ${o.precise}: precise batch norm runs batches of ${config.batch} (the training batch size), and ${preciseCount} samples make none`);
  const clean = firstSamples(data.test, config.testLimit);
  const shiftedTest = shiftedBytes(clean, shift);
  const shotIndices = permutation(data.train.length, new Random(o.seed)).slice(0, o.shots);
  const shots = shiftedBytes(data.train, shift, shotIndices);

  const backend = await startBackend(o.cpu);
  const model = buildModel(config);
  try {
    await loadCheckpointInto(model, bytes, path, config);
    const sign = o.brightness >= 0 ? '+' : '';
    out.write(`welford adapt: ${path}\n${describeConfig(config)}\n`);
    out.write(`shift: brightness ${sign}${o.brightness}, contrast ${o.contrast} around each image's mean, clipped to [0, 1], before normalization\n`);
    out.write(`evaluating on ${clean.length} ${config.dataset} test samples on ${backend.description}\n\n`);
    const k = Number.isFinite(o.priorStrength) ? String(o.priorStrength) : 'inf';
    const labels = { stored: 'stored', fewShot: `few-shot: ${o.shots} shifted training samples, k = ${k}`, precise: `precise: ${Math.floor(preciseCount / config.batch) * config.batch} shifted training samples` };
    const table = adaptTable(o.precise === null ? [labels.stored, labels.fewShot] : Object.values(labels), DATASET_INFO[config.dataset].task === 'segmentation');
    out.write(`${table.header}\n`);
    const rows: AdaptRow[] = [];
    const evaluated = async (row: AdaptRow['row'], testSet: AdaptRow['testSet'], statistics: string): Promise<void> => {
      const result: AdaptRow = { row, testSet, statistics, test: await evaluateTest(model, config, testSet === 'clean' ? clean : shiftedTest) };
      rows.push(result);
      out.write(`${table.line(result)}\n`);
    };
    await evaluated('clean', 'clean', labels.stored);
    await evaluated('shifted', 'shifted', labels.stored);

    const x = imagesOf(loaderOf(config, shots, { batchSize: o.shots }));
    let fewShot: RunningStatsUpdate[];
    try {
      fewShot = await adaptBatchNorm(model, x, { priorStrength: o.priorStrength });
    } finally {
      x.dispose();
    }
    await evaluated('few-shot', 'shifted', labels.fewShot);

    let precise: RunningStatsUpdate[] | null = null;
    if (o.precise !== null) {
      // From the stored statistics again: precise batch norm does not build on the few-shot ones.
      await loadCheckpointInto(model, bytes, path, config);
      const train = shiftedBytes(firstSamples(data.train, preciseCount), shift);
      precise = await preciseBatchNorm(model, loaderOf(config, train, { batchSize: config.batch, shuffle: true, seed: o.seed, dropLast: true }).batches(0));
      await evaluated('precise', 'shifted', labels.precise);
    }

    out.write(`\nwhat the few-shot adaptation moved (means in stored standard deviations, spread as a ratio of them):\n${movedLines(fewShot)}\n`);
    if (jsonPath) {
      mkdirSync(dirname(jsonPath), { recursive: true });
      const report = {
        checkpoint: path,
        config,
        adapter: backend.description,
        shift,
        shots: o.shots,
        priorStrength: o.priorStrength,
        seed: o.seed,
        rows,
        fewShot: summaryOf(fewShot),
        precise: precise && summaryOf(precise),
      };
      writeAtomic(jsonPath, `${toJsonText(report, 2)}\n`);
      out.write(`wrote ${jsonPath}\n`);
    }
    return 0;
  } finally {
    model.dispose();
  }
}
