// The benchmark suite: welford and TensorFlow.js on the same WebGPU adapter, one after the
// other, on identical work and seeds. Host-neutral: the browser page (main.ts) and the Node
// runner (../node_run.ts) both call runSuite. TF.js registers its webgpu backend when this
// module loads, so `navigator.gpu` must exist before it is imported.
import '@tensorflow/tfjs-backend-webgpu';
// tf.grads in the batch-norm benchmark needs the gradients registered (tf.layers registers them too).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { init, manualSeed } from '@welford/core';
import { preActResNet, preActResNet18, smallCnn, type Module } from '@welford/layers';
import type { BenchReport, LossCheck, Row, RowId } from '../report.ts';
import { BN_SHAPE, bnData, tfBatchNorm, welfordBatchNorm, type BnSides } from './batch_norm.ts';
import { installCounters } from './counting.ts';
import { labels, normals, toNhwc } from './data.ts';
import { copyWeights, tfModelS, tfPreActResNet, type TfModel } from './tf_models.ts';
import { tfBackend, TfTrainer } from './tf_side.ts';
import { copyBandwidth, kernelCopyBandwidth, type Plan } from './timing.ts';
import { chooseLayout, measureTraining, warmUp, type TrainingResult, type WarmUp } from './training.ts';
import { backend, hostState, WelfordTrainer } from './welford_side.ts';

const BATCH = 32;
const IMAGE = 28;
const CLASSES = 10;
const SEED = 1;
/**
 * ResNet-18's batch: 64, or 2 in quick mode, which times welford only: on a software adapter a
 * TF.js ResNet-18 step takes minutes (2.5 to 4 at batch 8 on SwiftShader), too long for the
 * smoke test CI runs in two browsers. The full mode compares both.
 */
const RESNET18_BATCH = { full: 64, quick: 2 };

/** Where progress lines go (the page shows them; the drivers print them). */
let log: (message: string) => void = () => {};

/** Why TF.js cannot run in this page (its backend did not start), or null. */
let tfjsDown: string | null = null;

/** An error's message, first line. */
const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/**
 * Records that TF.js failed on `what` (the rows then say so instead of holding its figures) and
 * returns the rows' note. A TF.js failure never stops welford's figures; `pnpm bench` reports it.
 */
function tfjsFailed(report: BenchReport, what: string, e: unknown): string {
  const why = message(e);
  console.warn(e);
  (report.tfjsFailures ??= []).push(`${what}: ${why}`);
  log(`${what}: TF.js failed: ${why}`);
  return `n/a: TF.js failed in this browser (${why})`;
}

/** The first-step losses agree when they differ by at most 1e-3 of max(1, |loss|). */
const agree = (a: number, b: number) => Math.abs(a - b) <= 1e-3 * Math.max(1, Math.abs(a));

/** A training input batch: N images of C channels, `image` pixels square. */
interface Batch {
  n: number;
  channels: number;
  image: number;
}

interface TrainingCase {
  key: 'modelS' | 'modelSGroup' | 'resnet8' | 'resnet18';
  title: string;
  batch: Batch;
  welford: () => Module;
  tfjs: (() => TfModel) | null;
  tfjsNote?: string;
}

/**
 * Builds the case in welford and (from welford's initial weights, on the same data) in TF.js,
 * warms both up, lays out the timed steps for the slower of the two, and times each.
 */
async function trainingCase(c: TrainingCase, plan: Plan, report: BenchReport): Promise<void> {
  const { n, channels, image } = c.batch;
  const shape = [n, channels, image, image];
  const input = normals(n * channels * image * image, SEED);
  const targets = labels(n, CLASSES, SEED + 1);
  manualSeed(SEED);
  const model = c.welford();
  const initial = await hostState(model);
  const w = new WelfordTrainer(model, input, shape, targets);
  let t: TfTrainer | null = null;
  let tWarm: WarmUp | null = null;
  let tfjsNote = c.tfjsNote ?? (c.tfjs && tfjsDown ? `n/a: TF.js did not start in this browser (${tfjsDown})` : undefined);
  log(`${c.title}: warming up welford`);
  const wWarm = await warmUp(w, plan);
  if (c.tfjs && !tfjsDown) {
    try {
      const tfModel = c.tfjs();
      copyWeights(tfModel, initial);
      t = new TfTrainer(tfModel, toNhwc(input, shape), [n, image, image, channels], targets, CLASSES);
      log(`${c.title}: warming up TF.js`);
      tWarm = await warmUp(t, plan);
    } catch (e) {
      tfjsNote = tfjsFailed(report, c.title, e);
      disposeQuietly(t);
      t = null;
    }
  }
  const layout = chooseLayout(plan, Math.max(wWarm.stepMs, tWarm?.stepMs ?? 0));
  log(`${c.title}: warm-up step welford ${wWarm.stepMs.toFixed(0)} ms${tWarm ? `, TF.js ${tWarm.stepMs.toFixed(0)} ms` : ''}; ${layout.samples} sample${layout.samples === 1 ? '' : 's'} of ${layout.perStepReps} step(s), ${layout.pipelinedSamples} of ${layout.pipelinedSteps} pipelined`);
  const wr = await measureTraining(w, wWarm, plan, layout);
  w.dispose();
  log(`${c.title}: welford ${wr.perStep.ms.median.toFixed(1)} ms/step (loss read every step), ${wr.pipelined.ms.median.toFixed(1)} ms/step pipelined`);
  let tr: TrainingResult | null = null;
  if (t && tWarm) {
    try {
      tr = await measureTraining(t, tWarm, plan, layout);
      log(`${c.title}: TF.js ${tr.perStep.ms.median.toFixed(1)} ms/step (loss read every step), ${tr.pipelined.ms.median.toFixed(1)} ms/step pipelined`);
    } catch (e) {
      tfjsNote = tfjsFailed(report, c.title, e);
    }
    disposeQuietly(t);
  }
  const row = (id: RowId, name: string, pick: 'perStep' | 'pipelined'): Row => ({
    id,
    name,
    welford: wr[pick],
    tfjs: tr ? tr[pick] : null,
    ...(tfjsNote && !tr ? { tfjsNote } : {}),
  });
  report.rows.push(
    row(`${c.key}.perStep`, `${c.title} step, loss read every step`, 'perStep'),
    row(`${c.key}.pipelined`, `${c.title} step, ${layout.pipelinedSteps} steps then 1 readback`, 'pipelined'),
  );
  const check: LossCheck = {
    model: c.title,
    welfordFirst: wr.firstLoss,
    tfjsFirst: tr?.firstLoss ?? null,
    agree: tr ? agree(wr.firstLoss, tr.firstLoss) : null,
    welfordLast: wr.lastLoss,
    tfjsLast: tr?.lastLoss ?? null,
    steps: wr.steps,
  };
  report.losses.push(check);
  log(`${c.title}: first-step loss welford ${wr.firstLoss.toFixed(6)}${tr ? `, TF.js ${tr.firstLoss.toFixed(6)} (${check.agree ? 'agree' : 'DISAGREE'})` : ''}`);
}

async function batchNormCase(plan: Plan, report: BenchReport): Promise<void> {
  const { x, dy } = bnData();
  const copyGbps = report.copy.gbps.median;
  const w = await welfordBatchNorm(plan, copyGbps, x, dy);
  log(`batch norm: welford forward ${w.forward.ms.median.toFixed(1)} ms, forward+backward ${w.forwardBackward.ms.median.toFixed(1)} ms`);
  let t: BnSides | null = null;
  let tfjsNote = tfjsDown ? `n/a: TF.js did not start in this browser (${tfjsDown})` : '';
  if (!tfjsDown) {
    try {
      t = await tfBatchNorm(plan, copyGbps, x, dy);
      log(`batch norm: TF.js forward ${t.forward.ms.median.toFixed(1)} ms, forward+backward ${t.forwardBackward.ms.median.toFixed(1)} ms`);
    } catch (e) {
      tfjsNote = tfjsFailed(report, 'batch norm', e);
    }
  }
  const shape = `[${BN_SHAPE.join(', ')}]`;
  const note = t ? {} : { tfjsNote };
  report.rows.push(
    { id: 'batchNorm.forward', name: `batch norm ${shape} training forward`, welford: w.forward, tfjs: t?.forward ?? null, ...note },
    { id: 'batchNorm.forwardBackward', name: `batch norm ${shape} training forward+backward`, welford: w.forwardBackward, tfjs: t?.forwardBackward ?? null, ...note },
  );
}

/** Disposes a TF.js trainer that may be half broken; a failure here is already reported. */
function disposeQuietly(t: TfTrainer | null): void {
  try {
    t?.dispose();
  } catch {
    // TF.js failed before: its state may be gone.
  }
}

/** The training cases; ResNet-18's batch depends on the mode. */
function trainingCases(plan: Plan): TrainingCase[] {
  const mnist: Batch = { n: BATCH, channels: 1, image: IMAGE };
  const cifar: Batch = { n: plan.quick ? RESNET18_BATCH.quick : RESNET18_BATCH.full, channels: 3, image: 32 };
  return [
    { key: 'modelS', title: 'model S', batch: mnist, welford: () => smallCnn(), tfjs: () => tfModelS(IMAGE, 1, CLASSES) },
    { key: 'modelSGroup', title: 'model S, group norm (8)', batch: mnist, welford: () => smallCnn({ norm: 'group', groups: 8 }), tfjs: null, tfjsNote: 'n/a: TF.js has no group norm' },
    {
      key: 'resnet8',
      title: 'pre-act ResNet-8',
      batch: mnist,
      welford: () => preActResNet({ depth: 8, width: 16, classes: CLASSES, inChannels: 1 }),
      tfjs: () => tfPreActResNet(IMAGE, 1, 16, CLASSES, [1, 1, 1]),
    },
    {
      key: 'resnet18',
      title: `pre-act ResNet-18 [${cifar.n}, 3, 32, 32]`,
      batch: cifar,
      welford: () => preActResNet18({ width: 64, classes: CLASSES, inChannels: 3 }),
      tfjs: plan.quick ? null : () => tfPreActResNet(cifar.image, 3, 64, CLASSES, [2, 2, 2, 2]),
      ...(plan.quick ? { tfjsNote: 'n/a in quick mode: a TF.js ResNet-18 step takes minutes on a software adapter; the full mode compares' } : {}),
    },
  ];
}

const NOTES = [
  'Both frameworks run in one page on the same adapter, each on its own GPUDevice, one after the other, from the same initial weights (welford\'s, copied into TF.js) and the same input and labels.',
  'TF.js models are NHWC tf.layers models; welford\'s are NCHW (TF.js gets the same input transposed on the host, before the timing). TF.js strided 3×3 convolutions get an explicit zeroPadding2d layer first, because PyTorch pads both sides and TF.js \'same\' pads only the bottom/right: one extra op per strided 3×3 convolution on the TF.js side.',
  'TF.js batch norm in training (tf.layers.batchNormalization with training: true) is tf.moments + tf.batchNormalization, with the moving averages updated by separate small ops; its gradient comes from autograd through those ops. welford\'s is a fused kernel family.',
  `Inputs: [${BATCH}, 1, ${IMAGE}, ${IMAGE}] for model S and ResNet-8; [${RESNET18_BATCH.full}, 3, 32, 32] for the pre-activation ResNet-18 (width 64, 4 stages of 2 blocks, 11.2M parameters), [${RESNET18_BATCH.quick}, 3, 32, 32] and welford only in quick mode.`,
  'The TF.js step is optimizer.minimize(loss, true, trainable variables) with tf.train.momentum(0.05, 0.9) and tf.losses.softmaxCrossEntropy on one-hot labels; welford\'s is SGD(momentum 0.9, lr 0.05) and crossEntropy on class indices.',
  'The batch-norm rows: TF.js is tf.moments over N, H, W + tf.batchNorm and the moving-average updates tf.layers makes; the backward is tf.grads w.r.t. x, scale and offset. Effective GB/s = (x read once + y written once) / time for the forward, plus (x and dy read, dx written) for forward+backward, for both frameworks.',
];

async function run(report: BenchReport, plan: Plan): Promise<void> {
  installCounters();
  await init();
  const b = backend();
  const info = b.acquired.adapter.info;
  report.adapter = { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description };
  report.software = b.acquired.software;
  tfjsDown = null;
  try {
    if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js could not start its webgpu backend');
    await tf.ready();
  } catch (e) {
    tfjsDown = message(e);
    (report.tfjsFailures ??= []).push(`its webgpu backend did not start: ${tfjsDown}`);
    log(`TF.js's webgpu backend did not start (${tfjsDown}): welford's figures only`);
  }
  // A WebGPU validation error makes a figure worthless: collect them from both devices, fail at the end.
  const gpuErrors: string[] = [];
  const devices: [string, GPUDevice][] = [['welford', b.device], ...(tfjsDown ? [] : [['TF.js', tfBackend().device] as [string, GPUDevice]])];
  for (const [who, device] of devices) {
    device.addEventListener('uncapturederror', (e) => gpuErrors.push(`${who}: ${(e as GPUUncapturedErrorEvent).error.message}`));
    void device.lost.then((info) => log(`${who}'s GPU device was lost (${info.reason}): ${info.message}`));
  }
  log(`adapter: ${b.acquired.adapterName}; ${plan.quick ? 'quick' : 'full'} mode`);
  report.copy.gbps = await copyBandwidth(b.device, plan, report.copy.bytes);
  log(`copy bandwidth: ${report.copy.gbps.median.toFixed(2)} GB/s`);
  report.kernelCopy.gbps = await kernelCopyBandwidth(b.device, plan, report.kernelCopy.bytes);
  log(`copy kernel bandwidth: ${report.kernelCopy.gbps.median.toFixed(2)} GB/s`);
  for (const c of trainingCases(plan)) await trainingCase(c, plan, report);
  await batchNormCase(plan, report);
  if (gpuErrors.length) throw new Error(`${gpuErrors.length} WebGPU error(s), the first: ${gpuErrors.slice(0, 3).join(' | ')}`);
}

/**
 * Runs every benchmark under `plan` and returns the report; a failure is recorded in
 * `report.error` with whatever was measured before it. `userAgent` names the host.
 */
export async function runSuite(plan: Plan, userAgent: string, progress: (message: string) => void): Promise<BenchReport> {
  log = progress;
  const report: BenchReport = {
    quick: plan.quick,
    adapter: { vendor: '', architecture: '', device: '', description: '' },
    software: false,
    userAgent,
    copy: { bytes: 64 * 2 ** 20, gbps: { median: NaN, min: NaN, max: NaN, values: [] } },
    kernelCopy: { bytes: 64 * 2 ** 20, gbps: { median: NaN, min: NaN, max: NaN, values: [] } },
    rows: [],
    losses: [],
    notes: NOTES,
  };
  try {
    await run(report, plan);
  } catch (e) {
    console.error(e);
    report.error = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
    log(`error: ${report.error}`);
  }
  return report;
}
