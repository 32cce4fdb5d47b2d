// Mixup and batch norm: a convex combination λ·x_i + (1 − λ)·x_π(i) of two samples varies less
// than either, so the statistics batch norm collects while training on mixed batches describe
// inputs that test time never shows. Measured in two parts: (1) the variance of the first batch
// norm's input (conv1 of the digit CNN) on mixed over clean batches, against the prediction derived
// in mixup_statistics.ts; (2) networks trained with and without Mixup, their first batch norm in
// evaluation mode on clean test digits: the normalized values' variance, 1 when the running
// statistics match the inputs.
import { noGrad, Random, tidy } from '@welford/core';
import type { BatchNormBase } from '@welford/layers';
import { listed } from '../format.ts';
import { ResultBuilder } from '../result_builder.ts';
import { evalBatches, sampleOf } from '../training/digits.ts';
import { trainWithMixup } from '../training/mixup_training.ts';
import { digitCnn } from '../training/models.ts';
import { accuracyOn, optimizerFor, trainOn, type TrainPlan } from '../training/train.ts';
import type { Experiment, ExperimentContext, ExperimentPlan, RunOptions } from '../types.ts';
import { evalNormalized, expectedShrink, measureMixedBatches, type EvalReading } from './mixup_statistics.ts';

const INFO = {
  name: 'mixup',
  title: 'Mixup and batch norm: training statistics that test inputs do not have',
  claim:
    'Mixup shrinks the variance batch norm sees before normalizing (the samples’ own part by E[λ² + (1 − λ)²], 2/3 at α = 1; the part all samples share stays), so running statistics collected under Mixup do not fit clean inputs: in evaluation their normalized variance is above 1.',
};

const BATCH = 32;
const LR = 0.1;
const MOMENTUM = 0.9;

function sizes(quick: boolean) {
  return {
    alphas: quick ? [1] : [0.2, 1, 2],
    batches: quick ? 64 : 160,
    trainAlphas: quick ? [1] : [0.2, 1, 2],
    steps: quick ? 40 : 300,
    testSamples: quick ? 500 : Infinity,
  };
}

/** The networks of part (2): one without Mixup (α null), then one per training α. */
const trainingAlphas = (s: ReturnType<typeof sizes>): (number | null)[] => [null, ...s.trainAlphas];

/** Each network of part (2) takes `steps` steps of BATCH. */
function plan(options: RunOptions = {}): ExperimentPlan {
  const s = sizes(options.quick ?? false);
  const networks = trainingAlphas(s).length;
  return {
    shows: `How much Mixup at α = ${listed(s.alphas)} shrinks the variance batch norm sees, and how the running statistics of networks trained with and without it fit clean test digits.`,
    networks,
    steps: networks * s.steps,
  };
}

async function run(context: ExperimentContext, options: RunOptions = {}) {
  const builder = new ResultBuilder(INFO, options, context);
  const { quick, seed } = builder.settings;
  const s = sizes(quick);
  const { train, test: fullTest } = await context.digits();
  const test = sampleOf(fullTest, s.testSamples, seed + 1);

  // (1) conv1's output on clean and mixed batches.
  const ratioTable = builder.table(`(1) Variance of the first batch norm's input (conv1 of the digit CNN, fresh), mixed over clean; mean over channels and ${s.batches} batches of ${BATCH}`, [
    { label: 'α', digits: 1 },
    { label: 'k = E[λ²+(1−λ)²]', digits: 3 },
    { label: 'shared share s', digits: 3 },
    { label: 'predicted s + k(1−s)', digits: 3 },
    { label: 'measured', digits: 3 },
    { label: 'measured / predicted', digits: 3 },
    { label: 'measured / k', digits: 3 },
  ]);
  const lambdaChart = builder.chart({ title: '(1) Mixed over clean variance of conv1’s output, per batch, against its λ', x: 'λ', y: 'variance ratio' });
  const alphaChart = builder.chart({ title: '(1) Mixed over clean variance, averaged over batches', x: 'Mixup α', y: 'variance ratio' });
  const ratios: { alpha: number; measured: number; predicted: number }[] = [];
  const probe = digitCnn({ norm: 'batch', seed });
  try {
    for (const [i, alpha] of s.alphas.entries()) {
      builder.checkStopped();
      const rng = new Random(seed * 7_919 + i);
      const readings = await measureMixedBatches(probe.convs[0], train, { alpha, batches: s.batches, batchSize: BATCH, seed: seed + 100 * i, rng }, (r) => {
        builder.measured(2);
        lambdaChart.point(`measured, α = ${alpha}`, r.lambda, r.measured);
        lambdaChart.point('predicted s + (λ²+(1−λ)²)(1−s)', r.lambda, r.predictedForLambda, true);
        lambdaChart.point('λ² + (1−λ)²', r.lambda, r.lambda ** 2 + (1 - r.lambda) ** 2, true);
        builder.checkStopped();
      });
      const average = (f: (r: (typeof readings)[number]) => number) => readings.reduce((sum, r) => sum + f(r), 0) / readings.length;
      const k = expectedShrink(alpha);
      const measured = average((r) => r.measured);
      const predicted = average((r) => r.predicted);
      ratios.push({ alpha, measured, predicted });
      ratioTable.add([alpha, k, average((r) => r.share), predicted, measured, measured / predicted, measured / k]);
      alphaChart.point('measured', alpha, measured);
      alphaChart.point('predicted s + k(1−s)', alpha, predicted, true);
      alphaChart.point('k = E[λ²+(1−λ)²]', alpha, k, true);
    }
  } finally {
    probe.dispose();
  }

  // (2) The first batch norm of trained networks, in evaluation on clean test digits.
  const evalTable = builder.table(`(2) First batch norm in evaluation on ${test.length} clean test digits after ${s.steps} steps of ${BATCH} (SGD lr ${LR}); x̂ = (x − running mean)/sqrt(running var + ε), mean over channels`, [
    { label: 'training' },
    { label: 'Var(x̂)', digits: 3 },
    { label: 'predicted 1/(s + k(1−s))', digits: 3 },
    { label: 'mean(x̂)', digits: 3 },
    { label: 'test acc', percent: true },
  ]);
  const evalChart = builder.chart({ title: '(2) Variance of the first batch norm’s normalized output on clean test digits', x: 'Mixup α in training (0: none)', y: 'Var(x̂)' });
  const training: TrainPlan = { batchSize: BATCH, samples: s.steps * BATCH, lr: LR, momentum: MOMENTUM, seed };
  const evals: { alpha: number | null; reading: EvalReading; accuracy: number }[] = [];
  for (const alpha of trainingAlphas(s)) {
    builder.checkStopped();
    const model = digitCnn({ norm: 'batch', seed });
    const optimizer = optimizerFor(model.parameters(), training);
    try {
      if (alpha === null) await trainOn(builder, model, train, training, optimizer);
      else await trainWithMixup(builder, model, train, training, alpha, optimizer);
      const bn = model.norms[0] as BatchNormBase;
      const [batch] = evalBatches(test, test.length);
      const features = noGrad(() => tidy(() => model.convs[0].call(batch.x)));
      batch.x.dispose();
      batch.y.dispose();
      builder.measured(1);
      const reading = await evalNormalized(features, bn.runningMean!, bn.runningVar!, bn.eps, alpha).finally(() => features.dispose());
      const { accuracy } = await accuracyOn(builder, model, test);
      evals.push({ alpha, reading, accuracy });
      evalTable.add([alpha === null ? 'no Mixup' : `Mixup α = ${alpha}`, reading.variance, reading.predicted, reading.mean, accuracy]);
      evalChart.point('measured', alpha ?? 0, reading.variance);
      evalChart.point('predicted 1/(s + k(1−s))', alpha ?? 0, reading.predicted, true);
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  }

  // holds: (1) at every α the measured ratio is within 10 % of s + k(1 − s) (the batch-to-batch
  // spread of λ leaves the mean over the batches uncertain by a few %); (2) with Mixup at α = 1,
  // Var(x̂) is more than 1.1× that of the run without (predicted ≈ 1/(s + (1 − s)·2/3) ≈ 1.3), and
  // without Mixup it is within 25 % of 1: in a short run the weights grow faster than the running
  // average (momentum 0.1) follows, which lifts Var(x̂) in both runs alike; Mixup's share is the ratio.
  const worst = Math.max(...ratios.map((r) => Math.abs(r.measured / r.predicted - 1)));
  const plain = evals.find((e) => e.alpha === null)!;
  const atOne = evals.find((e) => e.alpha === 1)!;
  const ratiosHold = worst < 0.1;
  const evalHolds = Math.abs(plain.reading.variance - 1) < 0.25 && atOne.reading.variance > 1.1 * plain.reading.variance;
  const holds = ratiosHold && evalHolds;
  const f3 = (v: number) => v.toFixed(3);
  const verdict =
    `(1) Mixed batches had ${ratios.map((r) => `${f3(r.measured)} (α = ${r.alpha}, predicted ${f3(r.predicted)}, k = ${f3(expectedShrink(r.alpha))})`).join(', ')} of the clean variance before batch norm: within ${(worst * 100).toFixed(1)} % of s + k(1 − s), above k because the part all digits share does not shrink. ` +
    `(2) On clean test digits in evaluation the normalized variance was ${f3(plain.reading.variance)} after training without Mixup and ` +
    `${evals.filter((e) => e.alpha !== null).map((e) => `${f3(e.reading.variance)} with α = ${e.alpha} (${f3(e.reading.variance / plain.reading.variance)}× that; predicted ${f3(e.reading.predicted)})`).join(', ')}; ` +
    `test accuracy ${evals.map((e) => `${(e.accuracy * 100).toFixed(1)} %`).join(' / ')}. ` +
    (holds
      ? 'Mixup’s statistics do not fit clean inputs, as claimed.'
      : `Not as claimed: ${ratiosHold ? '' : 'the variance ratio missed its prediction by more than 10 %; '}${evalHolds ? '' : 'the evaluation variances do not show the mismatch (within 25 % of 1 without, > 1.1× that with Mixup at α = 1).'}`);
  return builder.finish(verdict, holds);
}

export const mixupBatchNorm: Experiment = { ...INFO, run, plan };
