import type { GpuContext } from '../backend/op_kernel.ts';
import type { KernelArg } from '../backend/storage.ts';
import type { GpuStorage } from '../backend/webgpu/gpu_storage.ts';
import { dispatch1d, type Program } from '../backend/webgpu/program.ts';
import { sizeOf, type Shape } from '../util/shape.ts';
import { reductionGeometry, reductionPrograms, reductionUniforms, type ReductionGeometry } from './reduction_plan.ts';

/**
 * Which numbers a normalization averages together, for an input (N, C, ...):
 * - `batch`: per channel, over the batch and every spatial position;
 * - `group`: per (sample, group of C / numGroups channels), over the group's channels and
 *   positions (instance norm is numGroups = C);
 * - `layer`: per sample, over the trailing `normalizedRank` dims.
 * Weight and bias have one entry per channel, or for `layer` the normalized dims' shape.
 */
export type Grouping = { kind: 'batch' } | { kind: 'group'; numGroups: number } | { kind: 'layer'; normalizedRank: number };

/**
 * A grouping laid over one input shape. Element i (flat, row-major) belongs to statistics
 * group floor(i / groupDiv) % groups and uses weight entry floor(i / affineDiv) % affineCount.
 * The input viewed as `statsView` and reduced over `statsAxes` has the groups as outputs, in
 * order; viewed as `affineView` and reduced over `affineAxes`, the weight entries.
 */
export interface NormLayout {
  readonly groups: number;
  readonly groupSize: number;
  readonly groupDiv: number;
  readonly affineCount: number;
  readonly affineDiv: number;
  readonly statsView: readonly number[];
  readonly statsAxes: readonly number[];
  readonly affineView: readonly number[];
  readonly affineAxes: readonly number[];
}

/** The layout of `grouping` over `shape` (already checked: rank >= 2, groups dividing C, ...). */
export function normLayout(grouping: Grouping, shape: Shape): NormLayout {
  const size = sizeOf(shape);
  if (grouping.kind === 'layer') {
    const inner = sizeOf(shape.slice(shape.length - grouping.normalizedRank));
    const outer = size / Math.max(inner, 1);
    const view = [outer, inner];
    return { groups: outer, groupSize: inner, groupDiv: inner, affineCount: inner, affineDiv: 1, statsView: view, statsAxes: [1], affineView: view, affineAxes: [0] };
  }
  const [n, c] = shape;
  const spatial = sizeOf(shape.slice(2));
  const channelView = [n, c, spatial];
  if (grouping.kind === 'batch') {
    return { groups: c, groupSize: n * spatial, groupDiv: spatial, affineCount: c, affineDiv: spatial, statsView: channelView, statsAxes: [0, 2], affineView: channelView, affineAxes: [0, 2] };
  }
  const groups = n * grouping.numGroups;
  const groupSize = (c / grouping.numGroups) * spatial;
  return {
    groups,
    groupSize,
    groupDiv: groupSize,
    affineCount: c,
    affineDiv: spatial,
    statsView: [groups, groupSize],
    statsAxes: [1],
    affineView: channelView,
    affineAxes: [0, 2],
  };
}

/** Whether groups and weight entries coincide (batch norm): then the Σ per entry are also the group sums. */
export function groupsAreEntries(l: NormLayout): boolean {
  return l.groups === l.affineCount && l.groupDiv === l.affineDiv;
}

/** What a backward reduction sums over: the statistics groups or the weight entries. */
export type SumOver = 'groups' | 'entries';

export function sumGeometry(l: NormLayout, over: SumOver): ReductionGeometry {
  return over === 'groups' ? reductionGeometry(l.statsView, l.statsAxes) : reductionGeometry(l.affineView, l.affineAxes);
}

/** How the per-element kernels are specialised. */
export interface NormFlags {
  /** The statistics are the input's own (training); otherwise given (running) ones. */
  readonly batchStats: boolean;
  readonly hasWeight: boolean;
  readonly hasBias: boolean;
  /** `stats` also has batch renormalization's r and d rows. */
  readonly renorm: boolean;
  readonly relu: boolean;
}

/** The fields of shaders/lib/norm_layout.wgsl's `Params` that describe the layout (the reduction plan fills the rest). */
function normUniforms(l: NormLayout, n: number, eps: number): Record<string, number> {
  return {
    n,
    groups: l.groups,
    group_div: Math.max(l.groupDiv, 1),
    affine_count: Math.max(l.affineCount, 1),
    affine_div: Math.max(l.affineDiv, 1),
    eps,
    inv_m: 1 / l.groupSize,
  };
}

function flagOverrides(f: NormFlags): Record<string, boolean> {
  return { BATCH_STATS: f.batchStats, HAS_WEIGHT: f.hasWeight, HAS_BIAS: f.hasBias, RENORM: f.renorm, RELU: f.relu };
}

type Arg = KernelArg<GpuStorage>;

/** Storage bindings of an entry point; tensors an op lacks are bound to `x` and never read. */
function bind(x: Arg, given: Record<string, Arg | undefined>, names: readonly string[]): Record<string, GpuStorage> {
  const out: Record<string, GpuStorage> = {};
  for (const name of names) out[name] = (given[name] ?? x).storage;
  return out;
}

/**
 * Mean and biased variance per group into `out` ([2, groups]): shaders/norm_stats.wgsl over
 * the reduction core, in one or two levels as the reduction plan decides.
 */
export function statsPrograms(x: Arg, out: Arg, l: NormLayout, ctx: GpuContext): Program[] {
  const g = reductionGeometry(l.statsView, l.statsAxes);
  return reductionPrograms(
    {
      family: 'norm_stats',
      entryPoints: { main: 'stats_main', merge: 'stats_merge', serial: 'stats_serial' },
      op: 'variance',
      geometry: g,
      params: normUniforms(l, sizeOf(x.shape), 0),
      bindings: { x: x.storage },
      out: out.storage,
    },
    ctx,
  );
}

/**
 * Elements per thread of the elementwise passes: 4 when runs of 4 consecutive elements share
 * their group and weight entry (and the count divides), else 1.
 */
export function elementsPerThread(l: NormLayout, n: number): number {
  return l.groupDiv % 4 === 0 && l.affineDiv % 4 === 0 && n % 4 === 0 ? 4 : 1;
}

/** y = relu?(γ·(x̂·r + d) + β) in one pass. */
export function applyProgram(t: { x: Arg; stats: Arg; weight?: Arg; bias?: Arg }, out: Arg, l: NormLayout, flags: NormFlags, eps: number): Program {
  const n = sizeOf(t.x.shape);
  const vec = elementsPerThread(l, n);
  return {
    kernel: 'norm',
    entryPoint: 'apply',
    overrides: { ...flagOverrides(flags), WG: 256, VEC: vec },
    uniforms: { ...normUniforms(l, n, eps), ...reductionUniforms(null) },
    bindings: { ...bind(t.x, t, ['x', 'stats', 'weight', 'bias']), out: out.storage },
    dispatch: dispatch1d(n / vec, 256),
  };
}

/** Tensors the backward kernels read. `y` (the output) is needed with the fused ReLU only. */
export interface NormGradArgs {
  x: Arg;
  stats: Arg;
  dy: Arg;
  weight?: Arg;
  y?: Arg;
  sums?: Arg;
}

/**
 * Σ dy·w and Σ dy·w·x̂ per group or per weight entry into `out` ([2, outputs]), w = γ·r when
 * `weighted`: shaders/norm_grad_sums.wgsl over the reduction core.
 */
export function gradSumsPrograms(t: NormGradArgs, out: Arg, l: NormLayout, flags: NormFlags, eps: number, over: SumOver, weighted: boolean, ctx: GpuContext): Program[] {
  const g = sumGeometry(l, over);
  return reductionPrograms(
    {
      family: 'norm_grad_sums',
      entryPoints: { main: 'grad_sums', merge: 'grad_sums_merge', serial: 'grad_sums_serial' },
      op: 'sumPair',
      geometry: g,
      params: normUniforms(l, sizeOf(t.x.shape), eps),
      overrides: { ...flagOverrides(flags), WEIGHTED: weighted },
      bindings: bind(t.x, { ...t }, ['x', 'stats', 'weight', 'dy', 'y']),
      out: out.storage,
    },
    ctx,
  );
}

/** dx from dy and (training) the group sums; `weightedSums`: the sums already include γ·r. */
export function gradInputProgram(t: NormGradArgs, dx: Arg, l: NormLayout, flags: NormFlags, eps: number, weightedSums: boolean): Program {
  const n = sizeOf(t.x.shape);
  const vec = elementsPerThread(l, n);
  return {
    kernel: 'norm',
    entryPoint: 'grad_input',
    overrides: { ...flagOverrides(flags), WEIGHTED: weightedSums, WG: 256, VEC: vec },
    uniforms: { ...normUniforms(l, n, eps), ...reductionUniforms(null) },
    bindings: { ...bind(t.x, { ...t }, ['x', 'stats', 'weight', 'dy', 'y', 'sums']), out: dx.storage },
    dispatch: dispatch1d(n / vec, 256),
  };
}

/**
 * The in-place running-statistics update (bindings `stats`, `running_mean`, `running_var`
 * are added by the caller): running = (1 − momentum)·running + momentum·batch, the batch
 * variance times `unbias` (count/(count − 1) unbiases a variance over count values).
 */
export function updateRunningProgram(channels: number, momentum: number, unbias: number): Omit<Program, 'bindings'> {
  return {
    kernel: 'norm',
    entryPoint: 'update_running',
    overrides: { WG: 64 },
    uniforms: { channels, momentum, unbias },
    dispatch: dispatch1d(channels, 64),
  };
}

/** Batch renormalization's [4, C]: the batch mean and variance, r and d. */
export function renormFactorsProgram(
  t: { stats: Arg; runningMean: Arg; runningVar: Arg },
  out: Arg,
  { eps, rmax, dmax }: { eps: number; rmax: number; dmax: number },
): Program {
  const channels = t.stats.shape[1];
  return {
    kernel: 'norm',
    entryPoint: 'renorm_factors',
    overrides: { WG: 64 },
    uniforms: { channels, eps, rmin: 1 / rmax, rmax, dmax },
    bindings: { stats: t.stats.storage, running_mean: t.runningMean.storage, running_var: t.runningVar.storage, out: out.storage },
    dispatch: dispatch1d(channels, 64),
  };
}
