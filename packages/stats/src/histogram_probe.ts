import { histogram, max, min, type Tensor } from '@welford/core';
import type { ReadbackBatch } from './readback.ts';
import type { HistogramRecord } from './record.ts';

/** A histogram to take on read steps: of one layer's output (or input), by its dotted name. */
export interface HistogramProbeOptions {
  layer: string;
  /** Number of bins (default 64). */
  bins?: number;
  /**
   * A fixed [min, max]. Without it each read uses the range the tensor had on the latest read
   * whose values have come back (the first read only finds the range).
   */
  range?: readonly [number, number];
  /** Count the layer's output (default) or its first input. */
  of?: 'input' | 'output';
}

const key = (name: string, what: string): string => `hist:${name}:${what}`;

/** What a read step counted with, kept on the host until its values come back. */
interface Pending {
  min: number | null;
  max: number | null;
  total: number;
}

/** One histogram's state across read steps: its options and the range learned so far. */
export class HistogramProbe {
  readonly layer: string;
  readonly bins: number;
  readonly of: 'input' | 'output';
  private readonly fixed: readonly [number, number] | null;
  private learned: [number, number] | null = null;
  private readonly pending = new Map<number, Pending>();

  constructor({ layer, bins = 64, range, of = 'output' }: HistogramProbeOptions) {
    if (typeof layer !== 'string') throw new Error(`attachProbes: a histogram needs a layer name, got ${String(layer)}`);
    if (!Number.isInteger(bins) || bins < 1) throw new Error(`attachProbes: histogram of "${layer}": bins must be a positive integer, got ${String(bins)}`);
    if (of !== 'input' && of !== 'output') throw new Error(`attachProbes: histogram of "${layer}": of must be "input" or "output", got ${String(of)}`);
    if (range !== undefined && !(range.length === 2 && Number.isFinite(range[0]) && Number.isFinite(range[1]) && range[0] < range[1])) {
      throw new Error(`attachProbes: histogram of "${layer}": range must be [min, max] with finite min < max, got [${String(range)}]`);
    }
    this.layer = layer;
    this.bins = bins;
    this.of = of;
    this.fixed = range ? [range[0], range[1]] : null;
  }

  /** The range the next read counts over (null: none known yet). */
  get range(): readonly [number, number] | null {
    return this.fixed ?? this.learned;
  }

  /** Queues this step's counts (where a range is known) and the tensor's extremes. */
  probe(batch: ReadbackBatch, step: number, t: Tensor): void {
    if (t.size === 0) return; // no extremes to find, nothing to count
    const range = this.range;
    batch.own(key(this.layer, 'min'), min(t));
    batch.own(key(this.layer, 'max'), max(t));
    if (range) batch.own(key(this.layer, 'counts'), histogram(t, { bins: this.bins, min: range[0], max: range[1] }));
    this.pending.set(step, { min: range?.[0] ?? null, max: range?.[1] ?? null, total: t.size });
  }

  /** Drops what a step queued when its values will never be read. */
  forget(step: number): void {
    this.pending.delete(step);
  }

  /** The record of a step from its values; learns the next range from the observed extremes. */
  record(values: Map<string, Float32Array>, step: number): HistogramRecord | null {
    const p = this.pending.get(step);
    this.pending.delete(step);
    const lo = values.get(key(this.layer, 'min'));
    const hi = values.get(key(this.layer, 'max'));
    if (!p || !lo || !hi) return null;
    const counts = values.get(key(this.layer, 'counts'));
    const list = counts ? Array.from(counts) : null;
    const observedMin = lo[0];
    const observedMax = hi[0];
    if (Number.isFinite(observedMin) && Number.isFinite(observedMax)) {
      // A constant tensor gets a unit range around its value, as torch.histc does.
      this.learned = observedMin < observedMax ? [observedMin, observedMax] : [observedMin - 1, observedMax + 1];
    }
    return {
      of: this.of,
      bins: this.bins,
      min: p.min,
      max: p.max,
      counts: list,
      total: p.total,
      counted: list ? list.reduce((s, v) => s + v, 0) : null,
      observedMin,
      observedMax,
    };
  }
}
