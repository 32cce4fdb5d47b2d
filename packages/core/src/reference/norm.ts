import type { Grouping } from '../kernels/norm.ts';
import type { HostArray } from '../backend/storage.ts';
import { sizeOf, type Shape } from '../util/shape.ts';

/** For every element of an input: its statistics group and its weight/bias entry. */
export interface ElementGroups {
  readonly groups: number;
  readonly entries: number;
  readonly groupOf: Int32Array;
  readonly entryOf: Int32Array;
}

/**
 * Assigns each element (row-major) of an input of `shape` to its group from its coordinates:
 * batch norm by channel; group norm by (sample, channel / channels per group); layer norm by
 * the leading coordinates, with the position in the normalized dims as its weight entry.
 */
export function elementGroups(grouping: Grouping, shape: Shape): ElementGroups {
  const size = sizeOf(shape);
  const groupOf = new Int32Array(size);
  const entryOf = new Int32Array(size);
  if (grouping.kind === 'layer') {
    const inner = sizeOf(shape.slice(shape.length - grouping.normalizedRank));
    for (let i = 0; i < size; i++) {
      groupOf[i] = Math.floor(i / inner);
      entryOf[i] = i % inner;
    }
    return { groups: size / Math.max(inner, 1), entries: inner, groupOf, entryOf };
  }
  const [batch, channels] = shape;
  const spatial = sizeOf(shape.slice(2));
  const numGroups = grouping.kind === 'batch' ? 1 : grouping.numGroups;
  const perGroup = channels / numGroups;
  let i = 0;
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      for (let s = 0; s < spatial; s++, i++) {
        groupOf[i] = grouping.kind === 'batch' ? c : n * numGroups + Math.floor(c / perGroup);
        entryOf[i] = c;
      }
    }
  }
  return { groups: grouping.kind === 'batch' ? channels : batch * numGroups, entries: channels, groupOf, entryOf };
}

/** Mean and biased variance of every group, two passes in float64: out is [2, groups]. */
export function normStatisticsReference(x: HostArray, e: ElementGroups, out: HostArray): void {
  const count = new Float64Array(e.groups);
  const total = new Float64Array(e.groups);
  const squares = new Float64Array(e.groups);
  for (let i = 0; i < x.data.length; i++) {
    count[e.groupOf[i]] += 1;
    total[e.groupOf[i]] += x.data[i];
  }
  const mean = total.map((t, g) => t / count[g]);
  for (let i = 0; i < x.data.length; i++) squares[e.groupOf[i]] += (x.data[i] - mean[e.groupOf[i]]) ** 2;
  for (let g = 0; g < e.groups; g++) {
    out.data[g] = mean[g];
    out.data[e.groups + g] = squares[g] / count[g];
  }
}

/** Per-group statistics as kept in a `stats` array ([2 or 4, groups]): mean, variance and r, d. */
interface GroupStats {
  mean: number;
  invstd: number;
  r: number;
  d: number;
}

function groupStats(stats: HostArray, groups: number, g: number, eps: number, renorm: boolean): GroupStats {
  return {
    mean: stats.data[g],
    invstd: 1 / Math.sqrt(stats.data[groups + g] + eps),
    r: renorm ? stats.data[2 * groups + g] : 1,
    d: renorm ? stats.data[3 * groups + g] : 0,
  };
}

export interface NormReferenceOptions {
  eps: number;
  relu: boolean;
  renorm: boolean;
}

/** y = relu?(γ·((x − mean)/sqrt(var + eps)·r + d) + β), γ = 1 and β = 0 when not given. */
export function normApplyReference(
  t: { x: HostArray; stats: HostArray; weight?: HostArray; bias?: HostArray },
  e: ElementGroups,
  out: HostArray,
  o: NormReferenceOptions,
): void {
  for (let i = 0; i < t.x.data.length; i++) {
    const s = groupStats(t.stats, e.groups, e.groupOf[i], o.eps, o.renorm);
    const normalized = (t.x.data[i] - s.mean) * s.invstd * s.r + s.d;
    const a = e.entryOf[i];
    const v = normalized * (t.weight ? t.weight.data[a] : 1) + (t.bias ? t.bias.data[a] : 0);
    out.data[i] = o.relu && v < 0 ? 0 : v;
  }
}

export interface NormGradTensors {
  x: HostArray;
  stats: HostArray;
  dy: HostArray;
  weight?: HostArray;
  y?: HostArray;
  sums?: HostArray;
}

/** The upstream gradient, zero where the fused ReLU's output is not positive. */
function upstream(t: NormGradTensors, o: NormReferenceOptions, i: number): number {
  return o.relu && !(t.y!.data[i] > 0) ? 0 : t.dy.data[i];
}

/** γ·r for element i: how its x̂ is scaled on the way to the output. */
function scaleOf(t: NormGradTensors, e: ElementGroups, s: GroupStats, i: number): number {
  return (t.weight ? t.weight.data[e.entryOf[i]] : 1) * s.r;
}

/**
 * out = [Σ dy·w, Σ dy·w·x̂] per group (`over` 'groups') or per weight entry, with w = γ·r when
 * `weighted`, else 1; x̂ = (x − mean)·invstd without r and d. out is [2, K].
 */
export function normGradSumsReference(
  t: NormGradTensors,
  e: ElementGroups,
  out: HostArray,
  o: NormReferenceOptions & { over: 'groups' | 'entries'; weighted: boolean },
): void {
  const k = o.over === 'groups' ? e.groups : e.entries;
  const members: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < t.x.data.length; i++) members[o.over === 'groups' ? e.groupOf[i] : e.entryOf[i]].push(i);
  const sums = new Float64Array(2 * k);
  members.forEach((list, a) => {
    list.forEach((i) => {
      const s = groupStats(t.stats, e.groups, e.groupOf[i], o.eps, o.renorm);
      const d = upstream(t, o, i) * (o.weighted ? scaleOf(t, e, s, i) : 1);
      sums[a] += d;
      sums[k + a] += d * (t.x.data[i] - s.mean) * s.invstd;
    });
  });
  out.data.set(sums);
}

/**
 * dx. With batch statistics (the dense Jacobian): dx = invstd·(g − mean(g) − x̂·mean(g·x̂))
 * over the group, g = dy·γ·r, from the group sums in `sums` (sums of dy alone when
 * `!weightedSums`, where γ·r is constant over a group). With given statistics: dx = dy·γ·r·invstd.
 */
export function normGradInputReference(t: NormGradTensors, e: ElementGroups, dx: HostArray, o: NormReferenceOptions & { batchStats: boolean; weightedSums: boolean }): void {
  const counts = new Float64Array(e.groups);
  for (let i = 0; i < t.x.data.length; i++) counts[e.groupOf[i]] += 1;
  for (let i = 0; i < t.x.data.length; i++) {
    const g = e.groupOf[i];
    const s = groupStats(t.stats, e.groups, g, o.eps, o.renorm);
    const w = scaleOf(t, e, s, i);
    const d = upstream(t, o, i);
    if (!o.batchStats) {
      dx.data[i] = d * w * s.invstd;
      continue;
    }
    const f = o.weightedSums ? 1 : w;
    const meanG = (f * t.sums!.data[g]) / counts[g];
    const meanGx = (f * t.sums!.data[e.groups + g]) / counts[g];
    const xh = (t.x.data[i] - s.mean) * s.invstd;
    dx.data[i] = s.invstd * (d * w - meanG - xh * meanGx);
  }
}

/**
 * running ← (1 − momentum)·running + momentum·batch per channel, the batch variance times
 * `unbias` (count/(count − 1) for a biased variance over count values; stats is [2, C]: mean, variance).
 */
export function updateRunningReference(runningMean: Float32Array, runningVar: Float32Array, stats: Float32Array, momentum: number, unbias: number): void {
  const channels = runningMean.length;
  for (let c = 0; c < channels; c++) {
    runningMean[c] = (1 - momentum) * runningMean[c] + momentum * stats[c];
    runningVar[c] = (1 - momentum) * runningVar[c] + momentum * stats[channels + c] * unbias;
  }
}

/**
 * Batch renormalization (Ioffe 2017): out = [mean_B, var_B, r, d] ([4, C]) with
 * r = clip(σ_B/σ, 1/rmax, rmax), d = clip((mean_B − μ)/σ, −dmax, dmax), σ_B = sqrt(var_B + eps),
 * σ = sqrt(running var + eps), from the running statistics before this step's update.
 */
export function renormFactorsReference(stats: HostArray, runningMean: HostArray, runningVar: HostArray, out: HostArray, { eps, rmax, dmax }: { eps: number; rmax: number; dmax: number }): void {
  const channels = runningMean.data.length;
  const clip = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  for (let c = 0; c < channels; c++) {
    const meanB = stats.data[c];
    const varB = stats.data[channels + c];
    const sigma = Math.sqrt(runningVar.data[c] + eps);
    out.data[c] = meanB;
    out.data[channels + c] = varB;
    out.data[2 * channels + c] = clip(Math.sqrt(varB + eps) / sigma, 1 / rmax, rmax);
    out.data[3 * channels + c] = clip((meanB - runningMean.data[c]) / sigma, -dmax, dmax);
  }
}
