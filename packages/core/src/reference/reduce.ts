import type { HostArray } from '../backend/storage.ts';
import { stridesOf } from '../util/shape.ts';

/** What a reduction computes. */
export type ReductionKind = 'sum' | 'mean' | 'max' | 'min' | 'variance';

/**
 * Calls `visit(o, values)` for every output o (row-major over the dims not in `axes`) with
 * the values reduced into it, in row-major order over the dims in `axes`.
 */
function forEachOutput(x: HostArray, axes: readonly number[], visit: (o: number, values: Float64Array) => void): void {
  const strides = stridesOf(x.shape);
  const dims = x.shape.map((_, d) => d);
  const kept = dims.filter((d) => !axes.includes(d));
  const reduced = dims.filter((d) => axes.includes(d));
  const offsets = (list: number[]): number[] => {
    // Input offsets of every index over `list`, row-major.
    let out = [0];
    for (const d of list) {
      const next: number[] = [];
      for (const base of out) for (let i = 0; i < x.shape[d]; i++) next.push(base + i * strides[d]);
      out = next;
    }
    return out;
  };
  const keptOffsets = offsets(kept);
  const reducedOffsets = offsets(reduced);
  const values = new Float64Array(reducedOffsets.length);
  keptOffsets.forEach((base, o) => {
    reducedOffsets.forEach((off, r) => (values[r] = x.data[base + off]));
    visit(o, values);
  });
}

function total(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s;
}

/** Largest (or smallest) value; NaN if any value is NaN, as in PyTorch's amax/amin. */
function extreme(values: ArrayLike<number>, largest: boolean): number {
  let best = largest ? -Infinity : Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) return NaN;
    if (largest ? v > best : v < best) best = v;
  }
  return best;
}

/** Mean and sum of squared deviations, two passes in float64. */
function moments(values: ArrayLike<number>): { mean: number; m2: number } {
  const mean = values.length === 0 ? 0 : total(values) / values.length;
  let m2 = 0;
  for (let i = 0; i < values.length; i++) m2 += (values[i] - mean) ** 2;
  return { mean, m2 };
}

/** The reduction of `values`; variance divides by max(n − correction, 0) as torch.var does. */
export function reduceValues(kind: ReductionKind, values: ArrayLike<number>, correction = 0): number {
  switch (kind) {
    case 'sum':
      return total(values);
    case 'mean':
      return total(values) / values.length;
    case 'max':
      return extreme(values, true);
    case 'min':
      return extreme(values, false);
    case 'variance':
      return moments(values).m2 / Math.max(values.length - correction, 0);
  }
}

/** Reduces `x` over `axes` (normalized) into `out`, one value per index of the other dims. */
export function reduceReference(kind: ReductionKind, x: HostArray, axes: readonly number[], out: HostArray, correction = 0): void {
  forEachOutput(x, axes, (o, values) => {
    out.data[o] = reduceValues(kind, values, correction);
  });
}

