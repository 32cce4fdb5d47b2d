// The three measurements of the placement-saturation experiment: a sigmoid's expected slope
// against its input mean, ReLU activity with and without batch norm while a network trains, and
// batch norm before against after the ReLU on the same budget.
import { noGrad, randn, tidy, type Tensor } from '@welford/core';
import type { ClassificationDataset } from '@welford/data';
import { BatchNorm1d, NonFiniteLossError, type Module } from '@welford/layers';
import { attachProbes, memorySink, type StatsRecord } from '@welford/stats';
import type { ChartBuilder, ResultBuilder, TableBuilder } from '../result_builder.ts';
import { finalLoss } from '../training/final_loss.ts';
import { digitCnn } from '../training/models.ts';
import { placementCnn, type NormPlacement } from '../training/norm_placement.ts';
import { readMean } from '../training/read_scalar.ts';
import { layerMean, reluActivity, type ReluActivity } from '../training/relu_activity.ts';
import { meanSigmoidSlope, predictedSigmoidSlope } from '../training/sigmoid_slope.ts';
import { accuracyOn, trainOn, type TrainPlan } from '../training/train.ts';

/** Pre-activations per measured population of the sigmoid: the sampling error of E[σ'] stays below 0.5 %. */
export const SIGMOID_SAMPLES = 1 << 16;
/** The un-normalized input of the claim: mean 4, std 1. */
export const SATURATED_MEAN = 4;

/** E[σ'] measured and predicted, for the verdict. */
export interface SigmoidSlopes {
  /** By input mean (N(μ, 1) pre-activations). */
  measured: Map<number, number>;
  predicted: Map<number, number>;
  /** The mean-4 input after a BatchNorm1d in training mode. */
  afterNorm: number;
  afterNormMean: number;
}

/** E[σ'(z)] for z ~ N(μ, 1) at each of `means`, and for the mean-4 input recentred by a BatchNorm1d. */
export async function measureSigmoidSlopes(builder: ResultBuilder, means: readonly number[], table: TableBuilder, chart: ChartBuilder, seed: number): Promise<SigmoidSlopes> {
  const measured = new Map<number, number>();
  const predicted = new Map<number, number>();
  const slopeOf = async (z: Tensor) => {
    try {
      builder.measured(1);
      return await meanSigmoidSlope(z);
    } finally {
      z.dispose();
    }
  };
  // The predicted curve first, on a fine grid, so the measured points land on it as they come.
  const top = Math.max(...means);
  for (let i = 0; i <= 40; i++) chart.point("predicted ∫σ'φ", (top * i) / 40, predictedSigmoidSlope((top * i) / 40, 1), true);
  const reference = await slopeOf(randn([SIGMOID_SAMPLES], { mean: SATURATED_MEAN, std: 1, seed }));
  for (const mu of means) {
    builder.checkStopped();
    const slope = mu === SATURATED_MEAN ? reference : await slopeOf(randn([SIGMOID_SAMPLES], { mean: mu, std: 1, seed: seed + 1 + mu }));
    measured.set(mu, slope);
    predicted.set(mu, predictedSigmoidSlope(mu, 1));
    chart.point('measured, z ~ N(μ, 1)', mu, slope);
    table.add([`N(${mu}, 1)`, mu, slope, predicted.get(mu)!, slope / reference]);
  }
  // The mean-4 input through a batch norm in training mode (γ = 1, β = 0): it normalizes with the
  // batch's own statistics, so what reaches the sigmoid is centred again.
  const norm = new BatchNorm1d(16);
  const z = noGrad(() => tidy(() => norm.call(randn([SIGMOID_SAMPLES / 16, 16], { mean: SATURATED_MEAN, std: 1, seed: seed + 99 }))));
  try {
    const zMean = await readMean(z);
    builder.measured(1);
    const afterNorm = await meanSigmoidSlope(z);
    chart.point(`N(${SATURATED_MEAN}, 1) → BatchNorm1d`, zMean, afterNorm);
    table.add([`N(${SATURATED_MEAN}, 1) → BatchNorm1d`, zMean, afterNorm, predictedSigmoidSlope(0, 1), afterNorm / reference]);
    return { measured, predicted, afterNorm, afterNormMean: zMean };
  } finally {
    z.dispose();
    norm.dispose();
  }
}


/** The two networks of the ReLU-activity runs: digitCnn with batch norm, and without a norm (its convolutions then have a bias). */
export type ActivityNorm = 'batch' | 'none';
export const ACTIVITY_LABEL: Record<ActivityNorm, string> = { batch: 'conv → BN → ReLU', none: 'conv → ReLU (bias)' };

/** What one trained network's ReLUs did. */
export interface ActivityRun {
  norm: ActivityNorm;
  lr: number;
  after: ReluActivity;
  /** Training loss at the end; null when the loss went non-finite. */
  loss: number | null;
  steps: number;
}

/** Dead channels summed over the layers. */
export function deadCount(a: ReluActivity): number {
  return a.deadChannels.reduce((sum, dead, i) => sum + Math.round(dead * a.channels[i]), 0);
}

/** A row of the ReLU-activity table. */
export function activityRow(norm: ActivityNorm, lr: number | null, when: string, a: ReluActivity, loss: number | null): (string | number | null)[] {
  return [ACTIVITY_LABEL[norm], lr, when, layerMean(a.active), Math.min(...a.active), deadCount(a), loss];
}

/** The ReLU modules of digitCnn (relu{i}, after each stage's norm, or after the conv without one) and their names. */
function reluLayers(model: ReturnType<typeof digitCnn>): { layers: readonly Module[]; names: string[] } {
  const relus: readonly Module[] = model.relus;
  const names = model.namedModules().filter(([, m]) => relus.includes(m)).map(([name]) => name);
  return { layers: relus, names };
}

/** The active fraction (mean over the layers) of one probes record. */
function activeOf(record: StatsRecord, names: readonly string[]): number {
  return layerMean(names.map((n) => 1 - (record.layers[n]?.activation?.deadFraction ?? NaN)));
}

/** The ReLU activity of a freshly built digitCnn on `probe` (training-mode batch statistics). */
export async function activityAtInit(builder: ResultBuilder, norm: ActivityNorm, seed: number, probe: Tensor): Promise<ReluActivity> {
  const model = digitCnn({ norm, seed });
  try {
    builder.measured(1);
    return await reluActivity(model, reluLayers(model).layers, probe);
  } finally {
    model.dispose();
  }
}

/**
 * Trains a digitCnn with SGD at `lr`, drawing the active fraction of its training batches (read by
 * @welford/stats probes every `readEvery` steps) on `chart`, then measures its ReLUs on `probe`.
 */
export async function trainedActivity(builder: ResultBuilder, train: ClassificationDataset, norm: ActivityNorm, plan: TrainPlan, probe: Tensor, chart: ChartBuilder, seed: number): Promise<ActivityRun> {
  const model = digitCnn({ norm, seed });
  const { names, layers } = reluLayers(model);
  const sink = memorySink();
  const series = `${ACTIVITY_LABEL[norm]}, lr ${plan.lr}`;
  sink.subscribe((record) => chart.point(series, record.step, activeOf(record, names)));
  const probes = attachProbes(model, { every: plan.readEvery ?? 1, params: false, sinks: [sink] });
  try {
    let loss: number | null = null;
    let steps = Math.ceil(plan.samples / plan.batchSize);
    try {
      loss = finalLoss(await trainOn(builder, model, train, { ...plan, onStep: () => probes.step() }));
    } catch (e) {
      if (!(e instanceof NonFiniteLossError)) throw e;
      steps = e.step;
    } finally {
      await probes.flush();
      probes.detach();
    }
    builder.measured(1);
    return { norm, lr: plan.lr, after: await reluActivity(model, layers, probe), loss, steps };
  } finally {
    model.dispose();
  }
}

/** What a placement run measured. */
export interface PlacementRun {
  placement: NormPlacement;
  loss: number | null;
  accuracy: number | null;
}

export const PLACEMENT_LABEL: Record<NormPlacement, string> = { 'before-relu': 'conv → BN → ReLU', 'after-relu': 'conv → ReLU → BN' };

/** Trains a placementCnn on the plan, drawing its loss readings on `chart`, and tests it on `test`. */
export async function trainPlacement(builder: ResultBuilder, train: ClassificationDataset, test: ClassificationDataset, placement: NormPlacement, plan: TrainPlan, chart: ChartBuilder, seed: number): Promise<PlacementRun> {
  const model = placementCnn({ placement, seed });
  try {
    const run = await trainOn(builder, model, train, plan);
    for (const r of run.losses) chart.point(PLACEMENT_LABEL[placement], r.step, r.loss);
    return { placement, loss: finalLoss(run), accuracy: (await accuracyOn(builder, model, test)).accuracy };
  } catch (e) {
    if (!(e instanceof NonFiniteLossError)) throw e;
    return { placement, loss: null, accuracy: null };
  } finally {
    model.dispose();
  }
}
