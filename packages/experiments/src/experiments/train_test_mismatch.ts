// Train-test mismatch: batch norm evaluates with the statistics it stored in training, so a
// covariate shift at test time (brighter, lower-contrast digits) passes straight through it:
// the first layer's output mean moves to γ(m_test − μ_pop)/sqrt(σ²_pop + ε) + β and accuracy
// collapses. Re-estimating the statistics from unlabeled shifted digits (a few shots, or precise
// batch norm over many) wins much of it back without touching a weight. At batch 4, batch
// renormalization is compared with batch norm in training and in evaluation mode.
import { deriveSeed, intensityShifted, type ClassificationBatch, type ClassificationDataset } from '@welford/data';
import { adaptBatchNorm, preciseBatchNorm, type BatchNormBase } from '@welford/layers';
import { listed } from '../format.ts';
import { ResultBuilder, type ChartBuilder, type TableBuilder } from '../result_builder.ts';
import { evalBatches, sampleOf } from '../training/digits.ts';
import { digitCnn } from '../training/models.ts';
import { normOutputMeans } from '../training/norm_output_mean.ts';
import { saveRunningStatistics } from '../training/running_statistics.ts';
import { trainWithStepDecay } from '../training/step_decay.ts';
import { accuracyOn } from '../training/train.ts';
import { trainModeAccuracy } from '../training/train_mode_accuracy.ts';
import type { Experiment, ExperimentContext, ExperimentPlan, RunOptions } from '../types.ts';

const INFO = {
  name: 'train-test-mismatch',
  title: 'Train-test mismatch: stored statistics under covariate shift',
  claim:
    'Stored batch-norm statistics do not remove a covariate shift at test time: the output mean becomes γ(m_test − μ_pop)/sqrt(σ²_pop + ε) + β and accuracy on shifted digits collapses; ' +
    're-estimating the statistics from a few unlabeled shifted samples recovers much of it, and batch renormalization keeps training and inference consistent at batch 4.',
};

/** The shift of docs/adaptation.md, on [0, 1] intensities before normalization. */
const SHIFT = { brightness: 0.3, contrast: 0.6 } as const;
/** The few-shot prior, in samples (`welford adapt`'s default). */
const PRIOR_STRENGTH = 4;
/** Batch size and Adam learning rate (a tenth of it for the last quarter) of the batch-norm network that meets the shift. */
const BATCH = 16;
const LR = 0.03;
/** The same for the batch norm against batch renorm comparison. */
const SMALL_BATCH = 4;
const SMALL_LR = 0.005;
/** The norms trained at SMALL_BATCH, in this order. */
const SMALL_BATCH_NORMS = ['batch', 'batchrenorm'] as const;
/** Digits of the batch the first layer's output mean is measured on. */
const FORMULA_DIGITS = 100;
/** Batch size of precise batch norm's passes. */
const PRECISE_BATCH = 50;

interface Sizes {
  /** Training digits, and samples consumed from them. */
  trainDigits: number;
  trainSamples: number;
  testDigits: number;
  /** Unlabeled shifted samples for few-shot adaptation. */
  shots: number[];
  /** Samples consumed at batch SMALL_BATCH by each of batch norm and batch renorm. */
  smallBatchSamples: number;
}

const QUICK: Sizes = { trainDigits: 2000, trainSamples: 2048, testDigits: 500, shots: [32], smallBatchSamples: 800 };
const FULL: Sizes = { trainDigits: 8000, trainSamples: 16_000, testDigits: 2004, shots: [8, 32, 128], smallBatchSamples: 8000 };

/**
 * The network that meets the shift, then one per norm at SMALL_BATCH; `trainWithStepDecay` takes
 * ⌈samples / batch⌉ steps in all, whatever share of them runs at the lower rate.
 */
function plan(options: RunOptions = {}): ExperimentPlan {
  const sizes = options.quick ? QUICK : FULL;
  return {
    shows: `Accuracy of a batch-norm CNN on brighter, lower-contrast digits with its stored statistics and after re-estimating them from ${listed(sizes.shots)} unlabeled shifted digits, and batch norm against batch renorm trained at batch ${SMALL_BATCH}.`,
    networks: 1 + SMALL_BATCH_NORMS.length,
    steps: Math.ceil(sizes.trainSamples / BATCH) + SMALL_BATCH_NORMS.length * Math.ceil(sizes.smallBatchSamples / SMALL_BATCH),
  };
}

/** The first `n` digits of `dataset` (normalized) as one batch; the caller disposes it. */
function firstBatch(dataset: ClassificationDataset, n: number): ClassificationBatch {
  const [batch] = evalBatches(dataset, n);
  return batch;
}

function disposeBatch(batch: ClassificationBatch): void {
  batch.x.dispose();
  batch.y.dispose();
}

interface Accuracies {
  clean: number;
  shifted: number;
}

/** Part (a) and (b): the collapse under the shift, the formula, and what re-estimation wins back. */
async function measureShift(builder: ResultBuilder, train: ClassificationDataset, clean: ClassificationDataset, sizes: Sizes, seed: number) {
  const shifted = intensityShifted(clean, SHIFT);
  const trainSet = sampleOf(train, sizes.trainDigits, seed);
  const table = builder.table(`Accuracy of a batch-norm CNN on ${clean.length} clean and shifted test digits (brightness +${SHIFT.brightness}, contrast ${SHIFT.contrast})`, [
    { label: 'batch-norm statistics' },
    { label: 'shifted samples used', digits: 0 },
    { label: 'accuracy clean', percent: true },
    { label: 'accuracy shifted', percent: true },
  ]);
  const formula = builder.table(`First batch norm's output mean per channel on ${FORMULA_DIGITS} test digits (evaluation mode, before its ReLU) against γ(m − μ_pop)/sqrt(σ²_pop + ε) + β`, [
    { label: 'digits' },
    { label: 'channel', digits: 0 },
    { label: '(m − μ_pop)/σ_pop', digits: 3 },
    { label: 'γ', digits: 4 },
    { label: 'β', digits: 4 },
    { label: 'predicted mean', digits: 4 },
    { label: 'measured mean', digits: 4 },
    { label: 'absolute difference', scientific: true },
  ]);
  const chart = builder.chart({ title: 'Accuracy on shifted digits against unlabeled shifted samples', x: 'shifted samples used to re-estimate the statistics', y: 'accuracy on shifted test digits', logX: true });
  const span = [sizes.shots[0], trainSet.length];

  const model = digitCnn({ norm: 'batch', seed });
  const accuracies = async (): Promise<Accuracies> => ({ clean: (await accuracyOn(builder, model, clean)).accuracy, shifted: (await accuracyOn(builder, model, shifted)).accuracy });
  try {
    await trainWithStepDecay(builder, model, trainSet, { batchSize: BATCH, samples: sizes.trainSamples, lr: LR, optimizer: 'adam', seed });
    const stored = await saveRunningStatistics(model);
    const before = await accuracies();
    table.add(['stored (running averages from training)', 0, before.clean, before.shifted]);
    for (const x of span) chart.point('clean digits, stored statistics', x, before.clean, true);
    for (const x of span) chart.point('stored statistics', x, before.shifted, true);

    let worstRelative = 0;
    for (const [label, dataset] of [['clean', clean], ['shifted', shifted]] as const) {
      builder.checkStopped();
      const batch = firstBatch(dataset, FORMULA_DIGITS);
      const means = await normOutputMeans(model.convs[0], model.norms[0] as BatchNormBase, batch.x).finally(() => disposeBatch(batch));
      builder.measured(1);
      const differences = means.measured.map((m, c) => Math.abs(m - means.predicted[c]));
      means.predicted.forEach((p, c) => formula.add([label, c, means.shift[c], means.weight[c], means.bias[c], p, means.measured[c], differences[c]]));
      // Relative to the largest predicted mean of the batch, so that channels whose mean is near 0 do not divide by ~0.
      worstRelative = Math.max(worstRelative, Math.max(...differences) / Math.max(...means.predicted.map(Math.abs)));
    }

    const adapted: Accuracies[] = [];
    for (const n of sizes.shots) {
      builder.checkStopped();
      await stored.restore();
      const batch = firstBatch(intensityShifted(sampleOf(train, n, deriveSeed(seed, n)), SHIFT), n);
      await adaptBatchNorm(model, batch, { priorStrength: PRIOR_STRENGTH }).finally(() => disposeBatch(batch));
      builder.measured(1);
      const after = await accuracies();
      adapted.push(after);
      table.add([`few-shot: ${n} shifted training digits, k = ${PRIOR_STRENGTH}`, n, after.clean, after.shifted]);
      chart.point(`few-shot (k = ${PRIOR_STRENGTH})`, n, after.shifted);
    }

    builder.checkStopped();
    await stored.restore();
    await preciseBatchNorm(model, evalBatches(intensityShifted(trainSet, SHIFT), PRECISE_BATCH));
    builder.measured(Math.ceil(trainSet.length / PRECISE_BATCH));
    const precise = await accuracies();
    table.add([`precise: all ${trainSet.length} shifted training digits`, trainSet.length, precise.clean, precise.shifted]);
    for (const x of span) chart.point('precise batch norm', x, precise.shifted);
    return { before, adapted, precise, worstRelative, largestShots: sizes.shots.at(-1)! };
  } finally {
    model.dispose();
  }
}

/** What one network of part (c) measured. */
interface SmallBatchRun {
  label: string;
  evalAccuracy: number;
  trainAccuracy: number;
  gap: number;
}

/** One network of part (c): trained at SMALL_BATCH, then accuracy in evaluation and in training mode. */
async function trainSmallBatch(builder: ResultBuilder, norm: (typeof SMALL_BATCH_NORMS)[number], train: ClassificationDataset, test: ClassificationDataset, sizes: Sizes, seed: number, table: TableBuilder, chart: ChartBuilder): Promise<SmallBatchRun> {
  const label = norm === 'batch' ? 'batch norm' : 'batch renorm';
  const model = digitCnn({ norm, seed });
  try {
    const run = await trainWithStepDecay(builder, model, train, { batchSize: SMALL_BATCH, samples: sizes.smallBatchSamples, lr: SMALL_LR, optimizer: 'adam', seed });
    for (const r of run.losses) chart.point(label, r.step, r.loss);
    const evalAccuracy = (await accuracyOn(builder, model, test)).accuracy;
    const trainAccuracy = await trainModeAccuracy(builder, model, test, SMALL_BATCH);
    table.add([label, SMALL_BATCH, run.steps, run.lastLoss, evalAccuracy, trainAccuracy, trainAccuracy - evalAccuracy]);
    return { label, evalAccuracy, trainAccuracy, gap: trainAccuracy - evalAccuracy };
  } finally {
    model.dispose();
  }
}

async function run(context: ExperimentContext, options: RunOptions = {}) {
  const builder = new ResultBuilder(INFO, options, context);
  const { quick, seed } = builder.settings;
  const sizes = quick ? QUICK : FULL;
  const digits = await context.digits();
  const clean = sampleOf(digits.test, sizes.testDigits, seed);
  const shift = await measureShift(builder, digits.train, clean, sizes, seed);

  const table = builder.table(`Batch norm against batch renorm trained at batch ${SMALL_BATCH} on the same ${sizes.smallBatchSamples} samples (accuracy on ${clean.length} clean test digits)`, [
    { label: 'norm' },
    { label: 'batch', digits: 0 },
    { label: 'steps', digits: 0 },
    { label: 'last training loss', digits: 3 },
    { label: 'eval-mode accuracy', percent: true },
    { label: `train-mode accuracy (batches of ${SMALL_BATCH})`, percent: true },
    { label: 'train − eval', percent: true },
  ]);
  const chart = builder.chart({ title: `Training loss at batch ${SMALL_BATCH}`, x: 'step', y: 'training loss (one batch)' });
  const trainSet = sampleOf(digits.train, sizes.trainDigits, seed);
  const smallBatch: SmallBatchRun[] = [];
  for (const norm of SMALL_BATCH_NORMS) smallBatch.push(await trainSmallBatch(builder, norm, trainSet, clean, sizes, seed, table, chart));
  const [bn, renorm] = smallBatch;

  // Thresholds: the shift costs at least 20 points; the largest few-shot adaptation wins back at
  // least half of that; the formula holds to 1e-3 relative. Part (c) is reported, not judged.
  const { before, adapted, precise, worstRelative, largestShots } = shift;
  const gap = before.clean - before.shifted;
  const largest = adapted.at(-1)!;
  const recovered = (largest.shifted - before.shifted) / gap;
  const holds = gap >= 0.2 && recovered >= 0.5 && worstRelative <= 1e-3;
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const points = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)} points`;
  const failed = [gap < 0.2 && 'the shift costs less than 20 points', recovered < 0.5 && 'adaptation wins back less than half of the lost accuracy', worstRelative > 1e-3 && 'the output mean misses the formula by more than 1e-3'].filter(Boolean);
  const verdict =
    `With stored statistics the batch-norm CNN scores ${pct(before.clean)} on clean digits and ${pct(before.shifted)} on shifted ones, ` +
    `${largestShots} unlabeled shifted digits bring it back to ${pct(largest.shifted)} (${pct(recovered)} of the lost accuracy) and precise batch norm to ${pct(precise.shifted)}, ` +
    `and the first layer's output mean follows γ(m − μ_pop)/sqrt(σ²_pop + ε) + β to ${worstRelative.toExponential(1)} relative` +
    (holds ? ': stored statistics do not remove the shift, and re-estimating them recovers much of it. ' : `, but ${failed.join(' and ')}. `) +
    `At batch ${SMALL_BATCH}, training mode differs from evaluation mode by ${points(bn.gap)} for ${bn.label} (${pct(bn.evalAccuracy)} in evaluation) and ${points(renorm.gap)} for ${renorm.label} (${pct(renorm.evalAccuracy)})` +
    (Math.abs(renorm.gap) < Math.abs(bn.gap) ? ': renorm trains as it infers.' : ': here renorm does not bring them closer.');
  return builder.finish(verdict, holds);
}

export const trainTestMismatch: Experiment = { ...INFO, run, plan };
