// Pre-activation through depth: CIFAR-style ResNets of depth 6n+2 with batch norm, built with
// pre-activation blocks (BN → ReLU → conv, twice, plus the identity; nothing after the addition)
// and with post-activation blocks (conv → BN → ReLU → conv → BN, addition, ReLU). At
// initialisation we measure ‖∂L/∂W‖ of the first and the last convolution on fixed batches; then
// each network trains on the same budget and we read its training loss and test accuracy.
import { manualSeed, type Tensor } from '@welford/core';
import { BasicBlock, NonFiniteLossError, postActResNet, PreActBlock, preActResNet, type PostActResNet, type PreActResNet } from '@welford/layers';
import { listed } from '../format.ts';
import { ResultBuilder } from '../result_builder.ts';
import { digitBatches, sampleOf } from '../training/digits.ts';
import { finalLoss } from '../training/final_loss.ts';
import { gradientNorms } from '../training/gradient_norms.ts';
import { saveRunningStatistics } from '../training/running_statistics.ts';
import { accuracyOn, trainOn } from '../training/train.ts';
import type { Experiment, ExperimentContext, ExperimentPlan, RunOptions } from '../types.ts';

const INFO = {
  name: 'preact-depth',
  title: 'Pre-activation residual blocks through depth',
  claim:
    'The pre-activation residual block (BN → ReLU → conv, twice, plus the identity) keeps the gradient norm at the first layer steady as depth grows, and trains at least as well as the post-activation block at depth.',
};

type BlockKind = 'pre-activation' | 'post-activation';
const KINDS: readonly BlockKind[] = ['pre-activation', 'post-activation'];

/** Channels of the first stage (then 2w, 4w): small, so that depth 56 trains in minutes on a software adapter. */
const WIDTH = 8;
/** Samples per gradient reading at initialisation. */
const GRAD_BATCH = 32;
/** SGD (momentum 0.9) learning rate: one that post-activation ResNets up to 56 layers take from the first step. */
const LR = 0.05;

interface Scale {
  depths: number[];
  /** Gradient readings at initialisation, averaged. */
  gradBatches: number;
  batchSize: number;
  samples: number;
  testDigits: number;
}

// Quick: two depths and a few steps (about 40 s of SwiftShader). Full: the 6n+2 depths up to 56
// in about 11 minutes there (a step of depth 56 costs about 9 s of CPU at batch 32); depth 110
// costs twice depth 56 per step and does not fit, and the training budget stays small.
const QUICK: Scale = { depths: [8, 20], gradBatches: 1, batchSize: 16, samples: 64, testDigits: 64 };
const FULL: Scale = { depths: [8, 20, 32, 56], gradBatches: 2, batchSize: 16, samples: 768, testDigits: 300 };

/** One network per depth and block, each taking ⌈samples / batch⌉ steps. */
function plan(options: RunOptions = {}): ExperimentPlan {
  const scale = options.quick ? QUICK : FULL;
  const networks = scale.depths.length * KINDS.length;
  return {
    shows: `The first layer's gradient at initialisation and the training loss of batch-norm ResNets with pre- and post-activation blocks at depth ${listed(scale.depths)}.`,
    networks,
    steps: networks * Math.ceil(scale.samples / scale.batchSize),
  };
}

/** What one network measured. */
interface DepthRow {
  depth: number;
  kind: BlockKind;
  firstGrad: number;
  lastGrad: number;
  /** Mean training loss of the last quarter of the steps; null when training diverged. */
  finalLoss: number | null;
  accuracy: number | null;
}

function build(kind: BlockKind, depth: number, seed: number): PreActResNet | PostActResNet {
  manualSeed(seed);
  const options = { depth, width: WIDTH, norm: 'batch' as const };
  return kind === 'pre-activation' ? preActResNet(options) : postActResNet(options);
}

/** The stem convolution (the first layer) and the last block's second convolution (the last convolution before the head). */
function firstAndLastConv(model: PreActResNet | PostActResNet): [Tensor, Tensor] {
  const lastBlock = model.layer3.at(model.layer3.length - 1);
  if (!(lastBlock instanceof PreActBlock || lastBlock instanceof BasicBlock)) throw new Error(`preact-depth: expected basic residual blocks in layer3, got ${lastBlock.typeName}`);
  return [model.conv1.weight, lastBlock.conv2.weight];
}

/** max / min of positive numbers: how far a quantity moves across settings. */
function spread(values: readonly number[]): number {
  return Math.max(...values) / Math.min(...values);
}

async function run(context: ExperimentContext, options: RunOptions = {}) {
  const builder = new ResultBuilder(INFO, options, context);
  const { quick, seed } = builder.settings;
  const scale = quick ? QUICK : FULL;
  const { train, test } = await context.digits();
  const gradDigits = sampleOf(train, GRAD_BATCH * scale.gradBatches, seed + 7);
  const testDigits = sampleOf(test, scale.testDigits, seed + 11);
  const table = builder.table(
    `ResNets of width ${WIDTH} with batch norm: gradients at initialisation (mean over ${scale.gradBatches} batch${scale.gradBatches > 1 ? 'es' : ''} of ${GRAD_BATCH}), then ${scale.samples} samples at batch ${scale.batchSize} (SGD ${LR}, momentum 0.9), ${scale.testDigits} test digits`,
    [
      { label: 'depth', digits: 0 },
      { label: 'block' },
      { label: '‖∂L/∂W‖ first conv', scientific: true },
      { label: '‖∂L/∂W‖ last conv', scientific: true },
      { label: 'first / last', digits: 2 },
      { label: 'final train loss', digits: 3 },
      { label: 'test accuracy', percent: true },
    ],
  );
  const gradChart = builder.chart({ title: 'Gradient norm at the first layer at initialisation', x: 'depth (layers)', y: '‖∂L/∂W‖ of the first conv', logY: true });
  const lossChart = builder.chart({ title: `Training loss after ${scale.samples} samples`, x: 'depth (layers)', y: 'mean loss of the last steps' });
  const rows: DepthRow[] = [];

  for (const depth of scale.depths) {
    for (const kind of KINDS) {
      builder.checkStopped();
      const model = build(kind, depth, seed);
      try {
        // Gradients at initialisation, in training mode; the running statistics those passes
        // update are put back, so training starts from the model as built.
        const stored = await saveRunningStatistics(model);
        const weights = firstAndLastConv(model);
        const sums = [0, 0];
        for (const batch of digitBatches(gradDigits, GRAD_BATCH, scale.gradBatches, seed + 7)) {
          try {
            const norms = await gradientNorms(model, weights, batch);
            norms.forEach((n, i) => (sums[i] += n / scale.gradBatches));
          } finally {
            batch.x.dispose();
            batch.y.dispose();
          }
          builder.measured(1);
        }
        await stored.restore();
        const [firstGrad, lastGrad] = sums;
        gradChart.point(kind, depth, firstGrad);

        let loss: number | null = null;
        let accuracy: number | null = null;
        try {
          const trained = await trainOn(builder, model, train, { batchSize: scale.batchSize, samples: scale.samples, lr: LR, seed, readEvery: 1 });
          loss = finalLoss(trained);
          accuracy = (await accuracyOn(builder, model, testDigits)).accuracy;
          if (loss !== null) lossChart.point(kind, depth, loss);
        } catch (e) {
          if (!(e instanceof NonFiniteLossError)) throw e;
        }
        rows.push({ depth, kind, firstGrad, lastGrad, finalLoss: loss, accuracy });
        table.add([depth, kind, firstGrad, lastGrad, firstGrad / lastGrad, loss, accuracy]);
      } finally {
        model.dispose();
      }
    }
  }
  return builder.finish(...verdictOf(rows, scale));
}

function verdictOf(rows: readonly DepthRow[], scale: Scale): [string, boolean] {
  const of = (kind: BlockKind) => rows.filter((r) => r.kind === kind);
  const [pre, post] = KINDS.map(of);
  const [preSpread, postSpread] = [pre, post].map((rs) => spread(rs.map((r) => r.firstGrad)));
  const deepest = scale.depths[scale.depths.length - 1];
  const [preDeep, postDeep] = [pre, post].map((rs) => rs.find((r) => r.depth === deepest)!);
  const lossText = (r: DepthRow) => (r.finalLoss === null ? 'diverged' : r.finalLoss.toFixed(3));
  const accText = (r: DepthRow) => (r.accuracy === null ? '—' : `${(r.accuracy * 100).toFixed(1)} %`);
  const range = (rs: DepthRow[]) => `${rs[0].firstGrad.toExponential(2)} → ${rs[rs.length - 1].firstGrad.toExponential(2)}`;
  // Holds when pre-activation's first-layer gradient norm varies less across depths (max/min)
  // than post-activation's, OR when pre-activation ends with the lower training loss at the
  // deepest depth (a post-activation net that diverged there counts as higher).
  const steadier = preSpread < postSpread;
  const trainsBetter = preDeep.finalLoss !== null && (postDeep.finalLoss === null || preDeep.finalLoss < postDeep.finalLoss);
  const holds = steadier || trainsBetter;
  const accuracyDisagrees = preDeep.accuracy !== null && postDeep.accuracy !== null && preDeep.accuracy !== postDeep.accuracy && preDeep.accuracy > postDeep.accuracy !== trainsBetter;
  const verdict =
    `From depth ${scale.depths[0]} to ${deepest} the first-layer gradient norm at initialisation goes ${range(pre)} with pre-activation blocks (max/min ${preSpread.toFixed(2)}×) ` +
    `and ${range(post)} with post-activation blocks (${postSpread.toFixed(2)}×); at depth ${deepest}, after ${scale.samples} samples, the training loss is ${lossText(preDeep)} (pre) against ${lossText(postDeep)} (post), ` +
    `test accuracy ${accText(preDeep)} against ${accText(postDeep)}. ` +
    `${steadier ? 'Pre-activation keeps the first-layer gradient steadier' : 'Pre-activation does not keep the first-layer gradient steadier'} and ${trainsBetter ? 'trains to a lower loss at depth' : 'does not train to a lower loss at depth'}` +
    `${accuracyDisagrees ? ' (test accuracy, in evaluation mode with running statistics from a short run, ranks the two the other way)' : ''}: ` +
    (holds ? 'the claim holds on these numbers.' : 'the claim does not hold on these numbers.');
  return [verdict, holds];
}

export const preactDepth: Experiment = { ...INFO, run, plan };
