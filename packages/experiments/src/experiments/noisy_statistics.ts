// Noisy statistics: the variance batch norm estimates from a batch of B values has relative squared
// error E[(s² − σ²)²]/σ⁴ = 2/(B − 1) for Gaussian data (unbiased s²), and (2B − 1)/B² for the biased
// s² that normalizes. Measured with batch norm's own reduction (a BatchNorm1d with momentum 1 stores
// the unbiased batch variance in runningVar) on K channels of Gaussian data at once, each channel one
// trial; then on features of real digits after a random convolution, whose kurtosis κ adds κ/B.
import { div, mean, noGrad, randn, Random, square, sub, sum, tidy, variance, type Tensor } from '@welford/core';
import { BatchNorm1d } from '@welford/layers';
import { listed } from '../format.ts';
import { ResultBuilder } from '../result_builder.ts';
import { convFeatures, drawBatches } from '../training/conv_features.ts';
import type { Experiment, ExperimentContext, ExperimentPlan, RunOptions } from '../types.ts';

const INFO = {
  name: 'noisy-statistics',
  title: 'Noisy statistics: the error of a batch variance',
  claim: 'The relative squared error of the batch variance, E[(s² − σ²)²]/σ⁴, is 2/(B − 1) for Gaussian data (unbiased s²): it explodes as B → 2.',
};

/** Channels of every Gaussian batch: independent trials measured by one reduction. */
const CHANNELS = 4096;
const TRUE_MEAN = 3;
const TRUE_STD = 2;
const TRUE_VAR = TRUE_STD ** 2;
/** Channels of the random convolution over the digits (13×13 positions each). */
const CONV_CHANNELS = 8;
/**
 * Digit features with excess kurtosis above this are left out: a feature that only a few images
 * stroke has κ in the hundreds, and its error needs far more trials than a run has to settle.
 */
const MAX_EXCESS_KURTOSIS = 20;

/** The batch sizes B measured. */
const sizesOf = (quick: boolean) => (quick ? [2, 4, 8, 32] : [2, 3, 4, 6, 8, 16, 32, 64, 128]);

/** Nothing trains: every number is a batch variance measured. */
function plan(options: RunOptions = {}): ExperimentPlan {
  const sizes = sizesOf(options.quick ?? false);
  return {
    shows: `The error of batch norm's batch variance at batch sizes ${listed(sizes)} against 2/(B − 1), on Gaussian data and on features of real digits.`,
    networks: 0,
    steps: 0,
  };
}

const unbiasedLaw = (b: number) => 2 / (b - 1);
const biasedLaw = (b: number) => (2 * b - 1) / (b * b);
/**
 * The relative standard error of a mean of T values (s²/σ² − 1)² for Gaussian data: with
 * ν = B − 1, s²/σ² is χ²_ν/ν, whose central moments give Var = 8/ν² + 48/ν³ around the mean 2/ν,
 * so the estimate's relative error is sqrt(2 + 12/ν)/sqrt(T).
 */
const relativeStandardError = (b: number, trials: number) => Math.sqrt(2 + 12 / (b - 1)) / Math.sqrt(trials);

/** Σ over a tensor of (v − σ²)²: the host divides by the count and σ⁴. */
const squaredErrorSum = (v: Tensor, truth: number) => sum(square(sub(v, truth)));

async function run(context: ExperimentContext, options: RunOptions = {}) {
  const builder = new ResultBuilder(INFO, options, context);
  const { quick, seed } = builder.settings;
  const sizes = sizesOf(quick);
  const repeats = quick ? 4 : 8;
  const trials = CHANNELS * repeats;
  // Tolerance from the trial count: the worst relative standard error (B = 2, s.e. = sqrt(14/T))
  // is 2.1 % at T = 32768 (full) and 2.9 % at T = 16384 (quick); 10 % and 15 % are more than 4.5
  // standard errors, so a correct measurement almost never fails a row, while the error of another
  // estimator (the biased s²: 0.75 against 2 at B = 2, 0.44 against 0.67 at B = 4) fails by far.
  const tolerance = quick ? 0.15 : 0.1;

  const table = builder.table(`Relative squared error of the batch variance, Gaussian data N(${TRUE_MEAN}, ${TRUE_VAR}); ${trials} trials (${CHANNELS} channels × ${repeats} batches) per B`, [
    { label: 'B', digits: 0 },
    { label: 'BatchNorm1d runningVar', digits: 4 },
    { label: '2/(B−1)', digits: 4 },
    { label: 'ratio', digits: 3 },
    { label: 'rel. s.e.', percent: true },
    { label: 'variance(x, 0)', digits: 4 },
    { label: 'biased s²', digits: 4 },
    { label: '(2B−1)/B²', digits: 4 },
    { label: 'trials', digits: 0 },
  ]);
  const chart = builder.chart({ title: 'Relative squared error of the batch variance vs batch size', x: 'batch size B', y: 'E[(s² − σ²)²]/σ⁴', logX: true, logY: true });
  const gaussian: { b: number; measured: number; viaVariance: number; biased: number }[] = [];

  // momentum 1: runningVar becomes the last batch's unbiased variance, from batch norm's own kernel.
  const layer = new BatchNorm1d(CHANNELS, { momentum: 1, affine: false });
  try {
    for (const b of sizes) {
      const totals = { bn: 0, unbiased: 0, biased: 0 };
      for (let r = 0; r < repeats; r++) {
        builder.checkStopped();
        const sums = noGrad(() =>
          tidy(() => {
            const x = randn([b, CHANNELS], { mean: TRUE_MEAN, std: TRUE_STD, seed: seed * 1_000_003 + b * 101 + r });
            layer.call(x);
            return { bn: squaredErrorSum(layer.runningVar!, TRUE_VAR), unbiased: squaredErrorSum(variance(x, 0), TRUE_VAR), biased: squaredErrorSum(variance(x, 0, { correction: 0 }), TRUE_VAR) };
          }),
        );
        builder.measured(1);
        const [bn, unbiased, biased] = await Promise.all([sums.bn.item(), sums.unbiased.item(), sums.biased.item()]);
        for (const t of [sums.bn, sums.unbiased, sums.biased]) t.dispose();
        totals.bn += bn;
        totals.unbiased += unbiased;
        totals.biased += biased;
      }
      const scale = 1 / (trials * TRUE_VAR ** 2);
      const row = { b, measured: totals.bn * scale, viaVariance: totals.unbiased * scale, biased: totals.biased * scale };
      gaussian.push(row);
      table.add([b, row.measured, unbiasedLaw(b), row.measured / unbiasedLaw(b), relativeStandardError(b, trials), row.viaVariance, row.biased, biasedLaw(b), trials]);
      chart.point('BatchNorm1d runningVar (unbiased s²)', b, row.measured);
      chart.point('2/(B−1)', b, unbiasedLaw(b), true);
      chart.point('biased s² (normalizes)', b, row.biased);
      chart.point('(2B−1)/B²', b, biasedLaw(b), true);
    }
  } finally {
    layer.dispose();
  }

  const digits = await digitFeatureSeries(builder, context, sizes, quick, seed);

  // Thresholds: every B within `tolerance` of its law for both estimators (see above), and the
  // two reductions (batch norm's kernel and core's variance) within 1e-4 of each other.
  const worst = Math.max(...gaussian.map((g) => Math.abs(g.measured / unbiasedLaw(g.b) - 1)));
  const worstBiased = Math.max(...gaussian.map((g) => Math.abs(g.biased / biasedLaw(g.b) - 1)));
  const paths = Math.max(...gaussian.map((g) => Math.abs(g.viaVariance / g.measured - 1)));
  const holds = worst <= tolerance && worstBiased <= tolerance && paths <= 1e-4;
  const [first, last] = [gaussian[0], gaussian.at(-1)!];
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const verdict =
    `Batch norm's variance of Gaussian batches has relative squared error ${first.measured.toFixed(3)} at B = ${first.b} (2/(B−1) = ${unbiasedLaw(first.b).toFixed(3)}) falling to ${last.measured.toFixed(4)} at B = ${last.b} (${unbiasedLaw(last.b).toFixed(4)}); ` +
    `every B is within ${pct(worst)} of 2/(B−1) and the biased s² within ${pct(worstBiased)} of (2B−1)/B² (tolerance ${pct(tolerance)}). ` +
    digits +
    (holds ? 'The error follows 2/(B−1) and explodes as B → 2.' : 'The measured error does not follow 2/(B−1) within the tolerance.');
  return builder.finish(verdict, holds);
}

/**
 * The same measurement on features of real digits after a random convolution, drawn with
 * replacement from the test digits: the law there is 2/(B−1) + κ̄/B with κ̄ the mean excess
 * kurtosis. Returns a sentence for the verdict.
 */
async function digitFeatureSeries(builder: ResultBuilder, context: ExperimentContext, sizes: number[], quick: boolean, seed: number): Promise<string> {
  builder.checkStopped();
  const { test } = await context.digits();
  const population = await convFeatures(test, { channels: CONV_CHANNELS, seed, maxExcessKurtosis: MAX_EXCESS_KURTOSIS });
  builder.measured(1);
  const repeats = quick ? 16 : 32;
  const trials = repeats * population.features;
  const kappa = population.excessKurtosis.reduce((s, k) => s + k, 0) / population.features;
  const kurtosisLaw = (b: number) => unbiasedLaw(b) + kappa / b;
  const table = builder.table(
    `The same on real activations: ${population.features} features of a random 3×3 conv (${CONV_CHANNELS} channels) over ${population.samples} test digits, ` +
      `batches drawn with replacement (mean excess kurtosis κ̄ = ${kappa.toFixed(2)}; left out: ${population.constant} constant features, ${population.heavyTailed} with κ > ${MAX_EXCESS_KURTOSIS})`,
    [
      { label: 'B', digits: 0 },
      { label: 'measured', digits: 4 },
      { label: '2/(B−1)', digits: 4 },
      { label: '2/(B−1) + κ̄/B', digits: 4 },
      { label: 'ratio to 2/(B−1) + κ̄/B', digits: 3 },
      { label: 'trials', digits: 0 },
    ],
  );
  const chart = builder.chart({ title: 'Relative squared error on digit features (non-Gaussian)', x: 'batch size B', y: 'E[(s² − σ²)²]/σ⁴', logX: true, logY: true });
  const rng = new Random(seed * 7919 + 17);
  const ratios: number[] = [];
  const measuredAt: { b: number; measured: number }[] = [];
  try {
    for (const b of sizes) {
      builder.checkStopped();
      const errors = noGrad(() =>
        tidy(() => {
          const batches = drawBatches(population, b, repeats, rng);
          return mean(square(div(sub(variance(batches, 1), population.variance), population.variance)));
        }),
      );
      builder.measured(repeats);
      const measured = await errors.item();
      errors.dispose();
      ratios.push(measured / kurtosisLaw(b));
      measuredAt.push({ b, measured });
      table.add([b, measured, unbiasedLaw(b), kurtosisLaw(b), measured / kurtosisLaw(b), trials]);
      chart.point('digit features', b, measured);
      chart.point('2/(B−1) + κ̄/B', b, kurtosisLaw(b), true);
      chart.point('2/(B−1)', b, unbiasedLaw(b), true);
    }
  } finally {
    population.values.dispose();
    population.variance.dispose();
  }
  const [first, last] = [measuredAt[0], measuredAt.at(-1)!];
  const furthest = Math.max(...ratios.map((r) => Math.abs(r - 1)));
  return (
    `On digit features after a random conv (κ̄ = ${kappa.toFixed(2)}) the error is ${first.measured.toFixed(3)} at B = ${first.b} and ${last.measured.toFixed(4)} at B = ${last.b}, ` +
    `${(first.measured / unbiasedLaw(first.b)).toFixed(2)}× and ${(last.measured / unbiasedLaw(last.b)).toFixed(2)}× the Gaussian law, and within ${(furthest * 100).toFixed(1)} % of 2/(B−1) + κ̄/B at every B: ` +
    `2/(B−1) is the Gaussian case, kurtosis adds κ/B. `
  );
}

export const noisyStatistics: Experiment = { ...INFO, run, plan };
