// Confidence gap: a network is more confident on the samples it trained on than on others, and
// membership-inference attacks read exactly that gap. Batch norm is said to widen it compared with
// layer norm. Both train the same digit CNN on a small subset for many epochs (so they overfit), at
// a small and a large batch; then the mean largest softmax probability is measured in evaluation
// mode on the training subset and on as many held-out digits.
import type { NormKind } from '@welford/layers';
import { listed } from '../format.ts';
import { ResultBuilder } from '../result_builder.ts';
import { sampleOf } from '../training/digits.ts';
import { digitCnn } from '../training/models.ts';
import { predictionsOn } from '../training/predictions.ts';
import { trainOn } from '../training/train.ts';
import type { Experiment, ExperimentContext, ExperimentPlan, RunOptions } from '../types.ts';

const INFO = {
  name: 'confidence-gap',
  title: 'Confidence gap: training samples against held-out samples',
  claim: 'Networks with batch norm are more confident on their training samples than on held-out samples by a wider margin than networks with layer norm (the signal membership inference uses), at small and large batches.',
};

const NORMS: readonly { kind: NormKind; label: string }[] = [
  { kind: 'batch', label: 'batch norm' },
  { kind: 'layer', label: 'layer norm' },
];

const BATCH_SIZES = [8, 64];
/** lr = BASE_LR · B / 32, the rule of the batch-size experiment: the same step per sample at both batch sizes. */
const BASE_LR = 0.1;
const BASE_BATCH = 32;
const WIDTH = 8;

/** The training digits and the epochs over them. */
const settings = (quick: boolean) => ({ subset: quick ? 200 : 500, epochs: quick ? 8 : 20 });

/** One network per batch size and norm, each taking ⌈subset · epochs / B⌉ steps. */
function plan(options: RunOptions = {}): ExperimentPlan {
  const { subset, epochs } = settings(options.quick ?? false);
  return {
    shows: `How much more confident batch-norm and layer-norm networks are on the ${subset} digits they trained on for ${epochs} epochs than on held-out digits, at batch ${listed(BATCH_SIZES)}.`,
    networks: BATCH_SIZES.length * NORMS.length,
    steps: NORMS.length * BATCH_SIZES.reduce((sum, b) => sum + Math.ceil((subset * epochs) / b), 0),
  };
}

interface Measured {
  trainConfidence: number;
  testConfidence: number;
  gap: number;
  trainAccuracy: number;
  testAccuracy: number;
}

async function run(context: ExperimentContext, options: RunOptions = {}) {
  const builder = new ResultBuilder(INFO, options, context);
  const { quick, seed } = builder.settings;
  const { subset, epochs } = settings(quick);
  const { train, test } = await context.digits();
  const members = sampleOf(train, subset, seed);
  const heldOut = sampleOf(test, subset, seed + 1);
  const table = builder.table(`Mean confidence (largest softmax probability) in evaluation mode after ${epochs} epochs on ${subset} training digits, against ${subset} held-out digits`, [
    { label: 'norm' },
    { label: 'batch', digits: 0 },
    { label: 'train conf', digits: 3 },
    { label: 'test conf', digits: 3 },
    { label: 'gap', digits: 3 },
    { label: 'train acc', percent: true },
    { label: 'test acc', percent: true },
  ]);
  const chart = builder.chart({ title: 'Confidence gap (train − held-out) against batch size', x: 'batch size', y: 'mean confidence gap', logX: true });
  const measured = new Map<string, Measured>();
  for (const batchSize of BATCH_SIZES) {
    for (const norm of NORMS) {
      builder.checkStopped();
      const model = digitCnn({ norm: norm.kind, width: WIDTH, seed });
      try {
        await trainOn(builder, model, members, { batchSize, samples: subset * epochs, lr: (BASE_LR * batchSize) / BASE_BATCH, seed: seed * 7919 + batchSize });
        const seen = await predictionsOn(builder, model, members);
        const unseen = await predictionsOn(builder, model, heldOut);
        const m: Measured = {
          trainConfidence: seen.confidence,
          testConfidence: unseen.confidence,
          gap: seen.confidence - unseen.confidence,
          trainAccuracy: seen.accuracy,
          testAccuracy: unseen.accuracy,
        };
        measured.set(`${norm.kind}@${batchSize}`, m);
        table.add([norm.label, batchSize, m.trainConfidence, m.testConfidence, m.gap, m.trainAccuracy, m.testAccuracy]);
        chart.point(norm.label, batchSize, m.gap);
      } finally {
        model.dispose();
      }
    }
  }
  const of = (kind: NormKind, b: number) => measured.get(`${kind}@${b}`)!;
  // The claim: at every batch size batch norm's gap is larger than layer norm's, and is a gap at
  // all (positive: more confident on its training samples). Two negative gaps are no membership
  // signal, whichever is the less negative.
  const larger = BATCH_SIZES.filter((b) => of('batch', b).gap > of('layer', b).gap && of('batch', b).gap > 0);
  const holds = larger.length === BATCH_SIZES.length;
  const noGap = BATCH_SIZES.filter((b) => of('batch', b).gap <= 0 && of('layer', b).gap <= 0);
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const at = (b: number) => {
    const bn = of('batch', b);
    const ln = of('layer', b);
    return (
      `at batch ${b} batch norm's gap is ${bn.gap.toFixed(3)} (${bn.trainConfidence.toFixed(3)} vs ${bn.testConfidence.toFixed(3)}; accuracy ${pct(bn.trainAccuracy)} vs ${pct(bn.testAccuracy)}) ` +
      `and layer norm's ${ln.gap.toFixed(3)} (${ln.trainConfidence.toFixed(3)} vs ${ln.testConfidence.toFixed(3)}; accuracy ${pct(ln.trainAccuracy)} vs ${pct(ln.testAccuracy)})`
    );
  };
  const where = holds ? 'at every batch size' : larger.length === 0 ? 'at no batch size' : `only at batch ${larger.join(', ')}`;
  const verdict =
    `Train against held-out confidence: ${BATCH_SIZES.map(at).join('; ')}. ` +
    `Batch norm's gap is positive and the larger one ${where}` +
    (noGap.length > 0 ? ` (at batch ${noGap.join(', ')} neither network is more confident on its training samples)` : '') +
    `: ${holds ? 'the claim holds' : 'the claim does not hold'} on these runs.`;
  return builder.finish(verdict, holds);
}

export const confidenceGap: Experiment = { ...INFO, run, plan };
