// Batch size: batch norm normalizes with statistics of the batch, so small batches give it noisy
// statistics in training and running averages that do not match what it trained on; group and
// layer norm average within one sample and should not care. The same digit CNN is trained with
// each norm on the same budget of samples at several batch sizes and evaluated on held-out digits.
import type { NormKind } from '@welford/layers';
import { listed } from '../format.ts';
import { ResultBuilder } from '../result_builder.ts';
import { sampleOf } from '../training/digits.ts';
import { digitCnn, digitPooledCnn } from '../training/models.ts';
import { predictionsOn } from '../training/predictions.ts';
import { accuracyOn, trainOn } from '../training/train.ts';
import type { Experiment, ExperimentContext, ExperimentPlan, RunOptions } from '../types.ts';

const INFO = {
  name: 'batch-size',
  title: 'Batch size: batch norm against group and layer norm',
  claim: 'Batch norm loses accuracy at small batches (noisy batch statistics, running statistics that no longer match), while group norm and layer norm do not depend on the batch.',
};

const NORMS: readonly { kind: NormKind; label: string }[] = [
  { kind: 'batch', label: 'batch norm' },
  { kind: 'group', label: 'group norm' },
  { kind: 'layer', label: 'layer norm' },
];

/**
 * Learning rate at batch 32. The rate grows linearly with the batch (lr = BASE_LR · B / 32): the
 * step per sample stays the same, so equal sample budgets take comparable paths at every batch
 * size. At B = 1 that is 0.003 with momentum 0.9, which still trains group and layer norm about as
 * far per sample as batch 32 does; square-root scaling (0.018 at B = 1) left single-sample training
 * at chance for every norm, so linear scaling is the fair choice and no floor is needed.
 */
const BASE_LR = 0.1;
const BASE_BATCH = 32;
const WIDTH = 8;
const GROUPS = 4;

/** BN must lose this much more (accuracy, absolute) than GN and LN between the largest and smallest batch. */
const DROP_MARGIN = 0.05;
/** ...and every norm must reach this at the largest batch, so that trained networks are compared (chance is 0.1). */
const TRAINED = 0.15;

/** The batch sizes, the training budget per network and the test digits of a run. */
function settings(quick: boolean) {
  return {
    sizes: quick ? [2, 32] : [1, 2, 4, 8, 32],
    // Multiples of 32, so every batch size divides the budget and the test set.
    budget: quick ? 512 : 4800,
    testCount: quick ? 512 : 1024,
    model: quick ? { build: digitPooledCnn, label: `digitPooledCnn width ${WIDTH}` } : { build: digitCnn, label: `digitCnn width ${WIDTH}` },
  };
}

/** One network per norm and batch size, each taking ⌈budget / B⌉ steps (as `trainOn` counts them). */
function plan(options: RunOptions = {}): ExperimentPlan {
  const { sizes, budget } = settings(options.quick ?? false);
  return {
    shows: `Test accuracy of batch, group and layer norm after equal training budgets at batch ${listed(sizes)}.`,
    networks: NORMS.length * sizes.length,
    steps: NORMS.length * sizes.reduce((sum, b) => sum + Math.ceil(budget / b), 0),
  };
}

async function run(context: ExperimentContext, options: RunOptions = {}) {
  const builder = new ResultBuilder(INFO, options, context);
  const { quick, seed } = builder.settings;
  const { sizes, budget, testCount, model: arch } = settings(quick);
  const { train, test } = await context.digits();
  const heldOut = sampleOf(test, testCount, seed + 1);
  const table = builder.table(`Test accuracy after ${budget} training samples (${arch.label}; SGD momentum 0.9, lr ${BASE_LR}·B/${BASE_BATCH}; ${testCount} test digits)`, [
    { label: 'batch', digits: 0 },
    ...NORMS.map((n) => ({ label: n.label, percent: true })),
    { label: 'batch norm, batch statistics at test', percent: true },
  ]);
  const chart = builder.chart({ title: 'Test accuracy against batch size', x: 'batch size', y: 'test accuracy', logX: true });
  const accuracy = new Map<NormKind, Map<number, number>>(NORMS.map((n) => [n.kind, new Map()]));
  const bnBatchStats = new Map<number, number>();
  for (const batchSize of sizes) {
    const row: number[] = [];
    for (const norm of NORMS) {
      builder.checkStopped();
      const model = arch.build({ norm: norm.kind, width: WIDTH, groups: GROUPS, seed });
      try {
        await trainOn(builder, model, train, { batchSize, samples: budget, lr: (BASE_LR * batchSize) / BASE_BATCH, seed: seed * 7919 + batchSize });
        const { accuracy: acc } = await accuracyOn(builder, model, heldOut);
        accuracy.get(norm.kind)!.set(batchSize, acc);
        chart.point(norm.label, batchSize, acc);
        row.push(acc);
        if (norm.kind === 'batch') {
          // After the evaluation-mode measurement: a training-mode forward moves the running statistics.
          const own = await predictionsOn(builder, model, heldOut, { batchSize, batchStatistics: true });
          bnBatchStats.set(batchSize, own.accuracy);
          chart.point('batch norm, batch statistics at test', batchSize, own.accuracy);
        }
      } finally {
        model.dispose();
      }
    }
    table.add([batchSize, ...row, bnBatchStats.get(batchSize)!]);
  }
  const small = sizes[0];
  const large = sizes.at(-1)!;
  const at = (kind: NormKind, b: number) => accuracy.get(kind)!.get(b)!;
  const drop = (kind: NormKind) => at(kind, large) - at(kind, small);
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const points = (v: number) => `${(v * 100).toFixed(1)} points`;
  const change = (v: number) => (v >= 0 ? `loses ${points(v)}` : `gains ${points(-v)}`);
  const [bnDrop, gnDrop, lnDrop] = [drop('batch'), drop('group'), drop('layer')];
  const trained = NORMS.every((n) => at(n.kind, large) >= TRAINED);
  const holds = trained && bnDrop > Math.max(gnDrop, lnDrop) + DROP_MARGIN;
  const verdict =
    `At batch ${small} batch norm reaches ${pct(at('batch', small))} against group norm ${pct(at('group', small))} and layer norm ${pct(at('layer', small))}; ` +
    `at batch ${large} they reach ${pct(at('batch', large))}, ${pct(at('group', large))} and ${pct(at('layer', large))}. ` +
    `From batch ${large} to ${small} batch norm ${change(bnDrop)}, group norm ${change(gnDrop)}, layer norm ${change(lnDrop)}` +
    ` (batch norm with the test batch's own statistics: ${pct(bnBatchStats.get(small)!)} at batch ${small}). ` +
    (holds
      ? `Batch norm's loss exceeds the others' by more than ${points(DROP_MARGIN)}: the claim holds.`
      : trained
        ? `Batch norm's loss does not exceed the others' by ${points(DROP_MARGIN)}: the claim does not hold here.`
        : `Not every norm reached ${pct(TRAINED)} at batch ${large}, so the budget is too small to judge the claim.`);
  return builder.finish(verdict, holds);
}

export const batchSize: Experiment = { ...INFO, run, plan };
