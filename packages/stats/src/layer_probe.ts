import { mean, step, variance, type Tensor } from '@welford/core';
import type { ReadbackBatch } from './readback.ts';
import type { ActivationStats, ChannelStats, LayerRecord } from './record.ts';
import type { Target } from './targets.ts';

// A probed layer's GPU work on a read step, and the record made from what was read back.
// Keys in the batch are `layer:<name>:<what>`.

const key = (name: string, what: string): string => `layer:${name}:${what}`;

/** Every axis of a rank-`rank` tensor but `channelAxis`. */
function otherAxes(rank: number, channelAxis: number): number[] {
  return Array.from({ length: rank }, (_, i) => i).filter((i) => i !== channelAxis);
}

/** Per-channel mean and biased variance over every other axis (channelAxis −1: one channel, all axes). */
function channelStats(batch: ReadbackBatch, name: string, what: string, t: Tensor, channelAxis: number): void {
  const axes = otherAxes(t.rank, channelAxis);
  batch.own(key(name, `${what}.mean`), mean(t, axes));
  batch.own(key(name, `${what}.var`), variance(t, axes, { correction: 0 }));
}

/**
 * Records the statistics of one call of a probed layer (inside `noGrad` and a `tidy` scope;
 * the results leave the scope through the batch).
 */
export function probeLayer(batch: ReadbackBatch, name: string, target: Target, input: Tensor, output: Tensor): void {
  // A ReLU's output of rank < 2 has no channel axis: its statistics are over all of it.
  const axis = target.kind === 'norm' ? target.channelAxis(input) : output.rank >= 2 ? 1 : -1;
  if (target.kind === 'norm') channelStats(batch, name, 'in', input, axis);
  channelStats(batch, name, 'out', output, axis);
  // A ReLU output is never negative: its zeros are the elements that are not positive. A norm's
  // output is pre-ReLU (the ReLU is a module of its own), so only ReLU modules report it.
  if (target.kind === 'relu') batch.own(key(name, 'alive'), mean(step(output)));
}

/** Adds the layer's running statistics and affine parameters as they are at the end of the step. */
export function probeLayerState(batch: ReadbackBatch, name: string, target: Target): void {
  if (target.kind !== 'norm') return;
  if (target.running) {
    batch.live(key(name, 'running.mean'), target.running[0]);
    batch.live(key(name, 'running.var'), target.running[1]);
  }
  if (target.weight) batch.live(key(name, 'weight'), target.weight);
  if (target.bias) batch.live(key(name, 'bias'), target.bias);
}

const list = (values: Float32Array | undefined): number[] => Array.from(values ?? []);

function readChannels(values: Map<string, Float32Array>, name: string, what: string): ChannelStats {
  return { mean: list(values.get(key(name, `${what}.mean`))), var: list(values.get(key(name, `${what}.var`))) };
}

/**
 * Mean and standard deviation over all elements from per-channel ones: every channel holds as
 * many elements, so the mean is the mean of the channel means and the variance the mean of the
 * channel variances plus the variance of the channel means.
 */
export function pooled(stats: ChannelStats): { mean: number; std: number } {
  const c = stats.mean.length;
  const m = stats.mean.reduce((s, v) => s + v, 0) / c;
  const within = stats.var.reduce((s, v) => s + v, 0) / c;
  const between = stats.mean.reduce((s, v) => s + (v - m) ** 2, 0) / c;
  return { mean: m, std: Math.sqrt(within + between) };
}

/**
 * Conditional batch norm keeps γ and β per class as the rows of an embedding [classes, 2·C]
 * (γ the first half): the record gives their means over the classes, per channel.
 */
function classMeans(table: Float32Array, half: 0 | 1, channels: number): number[] {
  const classes = table.length / (2 * channels);
  const out = new Array<number>(channels).fill(0);
  for (let k = 0; k < classes; k++) for (let c = 0; c < channels; c++) out[c] += table[k * 2 * channels + half * channels + c] / classes;
  return out;
}

/** The layer's record from the values read back (covariate shift is filled in by the caller). */
export function layerRecord(values: Map<string, Float32Array>, name: string, type: string, order: number, target: Target): LayerRecord {
  const record: LayerRecord = { type, order, output: readChannels(values, name, 'out') };
  if (target.kind === 'norm') {
    record.input = readChannels(values, name, 'in');
    if (target.running) record.running = readChannels(values, name, 'running');
    const weight = values.get(key(name, 'weight'));
    const bias = values.get(key(name, 'bias'));
    if (target.perClass && weight) {
      const channels = record.input.mean.length;
      record.weight = classMeans(weight, 0, channels);
      record.bias = classMeans(weight, 1, channels);
    } else {
      if (weight) record.weight = list(weight);
      if (bias) record.bias = list(bias);
    }
    record.covariateShift = null;
  }
  const alive = values.get(key(name, 'alive'));
  if (alive) {
    const activation: ActivationStats = { deadFraction: 1 - alive[0], ...pooled(record.output) };
    record.activation = activation;
  }
  return record;
}

/** Whether any number of the record is NaN or infinite. */
export function hasNonFinite(record: LayerRecord): boolean {
  const bad = (v: number | null | undefined): boolean => typeof v === 'number' && !Number.isFinite(v);
  const badList = (vs: number[] | undefined): boolean => (vs ?? []).some(bad);
  const badStats = (s: ChannelStats | undefined): boolean => badList(s?.mean) || badList(s?.var);
  const a = record.activation;
  return (
    badStats(record.input) ||
    badStats(record.output) ||
    badStats(record.running) ||
    badList(record.weight) ||
    badList(record.bias) ||
    (a !== undefined && (bad(a.deadFraction) || bad(a.mean) || bad(a.std)))
  );
}
