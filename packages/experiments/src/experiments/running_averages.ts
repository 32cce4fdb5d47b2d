// Running averages: batch norm's running mean starts at 0 and is an exponential moving average,
// so early on it is biased toward 0 by the factor 1 − (1 − μ)^t; dividing by that factor (the
// layer's `biasCorrection`) removes the bias. Measured on BatchNorm1d layers fed a stream of
// batches whose true mean and variance are known.
import { randn, tidy } from '@welford/core';
import { BatchNorm1d } from '@welford/layers';
import { ResultBuilder } from '../result_builder.ts';
import { readMean } from '../training/read_scalar.ts';
import type { Experiment, ExperimentContext, ExperimentPlan, RunOptions } from '../types.ts';

const INFO = {
  name: 'running-averages',
  title: 'Running averages: bias of a zero-initialised EMA',
  claim: 'A running mean that starts at 0 estimates m·(1 − (1 − μ)^t) after t batches, not m; dividing by 1 − (1 − μ)^t removes the bias.',
};

/** Channels averaged over so the curves show the expectation, not one noisy stream. */
const CHANNELS = 512;
const BATCH = 16;
const MOMENTUM = 0.1;
const TRUE_MEAN = 3;
const TRUE_STD = 2;

/** Batches fed to the layers. */
const batchesOf = (quick: boolean) => (quick ? 30 : 80);

/** Nothing trains: the layers only see batches in training mode. */
function plan(options: RunOptions = {}): ExperimentPlan {
  return {
    shows: `Batch norm's running mean and variance over its first ${batchesOf(options.quick ?? false)} batches, with and without bias correction, against m·(1 − (1 − μ)^t).`,
    networks: 0,
    steps: 0,
  };
}

async function run(context: ExperimentContext, options: RunOptions = {}) {
  const builder = new ResultBuilder(INFO, options, context);
  const { quick, seed } = builder.settings;
  const steps = batchesOf(quick);
  const shown = new Set(quick ? [1, 2, 5, 10, 20, 30] : [1, 2, 3, 5, 10, 20, 40, 80]);
  const plain = new BatchNorm1d(CHANNELS, { momentum: MOMENTUM });
  const corrected = new BatchNorm1d(CHANNELS, { momentum: MOMENTUM, biasCorrection: true });
  const table = builder.table(`Running mean and variance after t batches of ${BATCH} (true mean ${TRUE_MEAN}, variance ${TRUE_STD ** 2}, momentum ${MOMENTUM}; averaged over ${CHANNELS} channels)`, [
    { label: 't', digits: 0 },
    { label: 'EMA mean', digits: 3 },
    { label: 'predicted m(1-(1-μ)^t)', digits: 3 },
    { label: 'corrected mean', digits: 3 },
    { label: 'PyTorch var (starts at 1)', digits: 3 },
    { label: 'corrected var', digits: 3 },
  ]);
  const means = builder.chart({ title: 'Running mean estimate', x: 'batches seen (t)', y: 'estimate of the mean' });
  const vars = builder.chart({ title: 'Running variance estimate', x: 'batches seen (t)', y: 'estimate of the variance' });
  const worst = { emaVsPrediction: 0, corrected: 0, correctedVar: 0, pytorchVar: 0 };
  let firstEma = NaN;
  try {
    for (let t = 1; t <= steps; t++) {
      builder.checkStopped();
      tidy(() => {
        const x = randn([BATCH, CHANNELS], { mean: TRUE_MEAN, std: TRUE_STD, seed: seed * 100_003 + t });
        plain.call(x);
        corrected.call(x);
      });
      builder.measured(2);
      const stats = corrected.correctedRunningStats();
      const [ema, emaVar, fixedMean, fixedVar] = await Promise.all([readMean(plain.runningMean!), readMean(plain.runningVar!), readMean(stats.mean), readMean(stats.var)]);
      stats.mean.dispose();
      stats.var.dispose();
      const predicted = TRUE_MEAN * -Math.expm1(t * Math.log1p(-MOMENTUM));
      if (t === 1) firstEma = ema;
      worst.emaVsPrediction = Math.max(worst.emaVsPrediction, Math.abs(ema - predicted) / TRUE_MEAN);
      worst.corrected = Math.max(worst.corrected, Math.abs(fixedMean - TRUE_MEAN) / TRUE_MEAN);
      worst.correctedVar = Math.max(worst.correctedVar, Math.abs(fixedVar - TRUE_STD ** 2) / TRUE_STD ** 2);
      if (t <= 10) worst.pytorchVar = Math.max(worst.pytorchVar, Math.abs(emaVar - TRUE_STD ** 2) / TRUE_STD ** 2);
      means.point('true mean', t, TRUE_MEAN, true);
      means.point('predicted m(1-(1-μ)^t)', t, predicted, true);
      means.point('EMA (PyTorch)', t, ema);
      means.point('bias-corrected', t, fixedMean);
      vars.point('true variance', t, TRUE_STD ** 2, true);
      vars.point('EMA from 1 (PyTorch)', t, emaVar);
      vars.point('bias-corrected from 0', t, fixedVar);
      if (shown.has(t)) table.add([t, ema, predicted, fixedMean, emaVar, fixedVar]);
    }
  } finally {
    plain.dispose();
    corrected.dispose();
  }
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const holds = worst.emaVsPrediction < 0.03 && worst.corrected < 0.03 && firstEma < 0.2 * TRUE_MEAN;
  const verdict =
    `After 1 batch the running mean is ${firstEma.toFixed(3)} for a true mean of ${TRUE_MEAN} (${pct(firstEma / TRUE_MEAN)}); ` +
    `over ${steps} batches it stays within ${pct(worst.emaVsPrediction)} of m(1-(1-μ)^t), and the bias-corrected mean within ${pct(worst.corrected)} of m ` +
    `(variance within ${pct(worst.correctedVar)}; PyTorch's variance, started at 1, is off by up to ${pct(worst.pytorchVar)} in the first 10 batches). ` +
    (holds ? 'The bias follows the formula and the correction removes it.' : 'The measurement does not follow the formula.');
  return builder.finish(verdict, holds);
}

export const runningAverages: Experiment = { ...INFO, run, plan };
