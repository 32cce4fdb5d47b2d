import type { Tensor } from '../tensor/tensor.ts';
import { applyProgram, gradInputProgram, gradSumsPrograms, groupsAreEntries, normLayout, statsPrograms, type Grouping, type NormFlags, type SumOver } from '../kernels/norm.ts';
import { elementGroups, normApplyReference, normGradInputReference, normGradSumsReference, normStatisticsReference } from '../reference/norm.ts';
import { assertRankAtMost, sameShape, shapeToString, type Shape } from '../util/shape.ts';
import { add, affine, mul } from './elementwise.ts';
import { narrow } from './layout.ts';
import type { BackwardContext } from './op_def.ts';
import { runOp, runOpDeferred } from './dispatch.ts';
import { registerEpilogue } from './fusion.ts';
import { registerOp } from './registry.ts';

/**
 * Attributes of a normalize op (batchNorm, groupNorm, layerNorm, instanceNorm, batchRenorm).
 * Its inputs are x, stats ([2, groups]: mean and biased variance, or the running mean and
 * variance; [4, groups] with batch renormalization's r and d), then weight and bias when given.
 */
export interface NormAttrs extends NormFlags {
  readonly grouping: Grouping;
  readonly eps: number;
}

/** The shape weight and bias have for this grouping: [C], or the normalized dims for layer norm. */
export function affineShape(grouping: Grouping, x: Shape): number[] {
  return grouping.kind === 'layer' ? x.slice(x.length - grouping.normalizedRank) : [x[1]];
}

/** Throws, naming the op, unless `x` can be grouped so (rank, channels divisible by the groups). */
export function checkGroupingInput(op: string, x: Shape, grouping: Grouping): void {
  assertRankAtMost(op, x);
  if (grouping.kind === 'layer') {
    if (grouping.normalizedRank < 1 || grouping.normalizedRank > x.length) {
      throw new Error(`${op}: cannot normalize the last ${grouping.normalizedRank} dims of an input of shape ${shapeToString(x)}`);
    }
    return;
  }
  if (x.length < 2) throw new Error(`${op}: expected an input of shape (N, C, ...) with at least 2 dims, got ${shapeToString(x)}`);
  if (grouping.kind === 'group' && x[1] % grouping.numGroups !== 0) {
    throw new Error(`${op}: Expected number of channels in input to be divisible by num_groups, but got input of shape ${shapeToString(x)} and num_groups=${grouping.numGroups}`);
  }
}

/** Throws unless a weight-like tensor (weight, bias, running statistics) has the shape the grouping gives it. */
export function checkAffine(op: string, what: string, given: Shape | undefined, x: Shape, grouping: Grouping): void {
  if (given === undefined) return;
  const want = affineShape(grouping, x);
  if (!sameShape(given, want)) {
    const why = grouping.kind === 'layer' ? 'the normalized shape' : `one value per channel of input ${shapeToString(x)}`;
    throw new Error(`${op}: expected ${what} of shape ${shapeToString(want)} (${why}), got ${shapeToString(given)}`);
  }
}

/** Throws unless eps is a finite non-negative number and relu a boolean. */
export function checkNormOptions(op: string, eps: unknown, relu: unknown): void {
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) throw new Error(`${op}: eps must be a finite number >= 0, got ${String(eps)}`);
  if (typeof relu !== 'boolean') throw new Error(`${op}: relu must be a boolean, got ${String(relu)}`);
}

function statsRows(attrs: NormFlags): number {
  return attrs.renorm ? 4 : 2;
}

/** Names the inputs of a normalize op (tensors, host arrays or kernel arguments). */
function named<T>(inputs: readonly T[], attrs: NormFlags): { x: T; stats: T; weight?: T; bias?: T } {
  const [x, stats, ...rest] = inputs;
  return { x, stats, weight: attrs.hasWeight ? rest[0] : undefined, bias: attrs.hasBias ? rest[attrs.hasWeight ? 1 : 0] : undefined };
}

/**
 * Turns a normalize op's per-group backward sums [Σ dy, Σ dy·x̂] over its own input into the
 * ones its dx uses (synchronised batch norm: the sums over every replica, scaled to this one's count).
 */
export type GroupSumsReducer = (sums: Tensor, attrs: NormAttrs) => Tensor;

/**
 * Registers the normalize op `name`: y = relu?(γ·(x̂·r + d) + β), with the exact backward;
 * `reduceGroupSums` changes the sums dx is computed from (see GroupSumsReducer).
 */
export function registerNorm(name: string, reduceGroupSums?: GroupSumsReducer): void {
  registerOp<NormAttrs>({
    name,
    shape: (inputs, attrs) => {
      const { x, stats, weight, bias } = named(inputs, attrs);
      checkGroupingInput(name, x, attrs.grouping);
      const groups = normLayout(attrs.grouping, x).groups;
      if (!sameShape(stats, [statsRows(attrs), groups])) {
        throw new Error(`${name}: statistics for input ${shapeToString(x)} must have shape [${statsRows(attrs)}, ${groups}], got ${shapeToString(stats)}`);
      }
      checkAffine(name, 'weight', weight, x, attrs.grouping);
      checkAffine(name, 'bias', bias, x, attrs.grouping);
      return x;
    },
    cpu: (inputs, out, attrs) => {
      const t = named(inputs, attrs);
      normApplyReference(t, elementGroups(attrs.grouping, t.x.shape), out, attrs);
    },
    gpu: (inputs, out, attrs) => {
      const t = named(inputs, attrs);
      return [applyProgram(t, out, normLayout(attrs.grouping, t.x.shape), attrs, attrs.eps)];
    },
    backward: (context) => normBackward(context, reduceGroupSums),
  });
  // relu(norm(x)) reads x once and writes only the result; its backward masks dy in the norm's kernels.
  registerEpilogue(name, 'relu', (inputs, attrs) => {
    const a = attrs as NormAttrs;
    return a.relu ? null : runOp<NormAttrs>(name, inputs, { ...a, relu: true });
  });
}

interface StatisticsAttrs {
  grouping: Grouping;
}

// Mean and biased variance per group ([2, groups]).
registerOp<StatisticsAttrs>({
  name: 'normStatistics',
  shape: ([x], { grouping }) => {
    checkGroupingInput('normStatistics', x, grouping);
    return [2, normLayout(grouping, x).groups];
  },
  cpu: ([x], out, { grouping }) => normStatisticsReference(x, elementGroups(grouping, x.shape), out),
  gpu: ([x], out, { grouping }, ctx) => statsPrograms(x, out, normLayout(grouping, x.shape), ctx),
  // The normalize ops differentiate through their statistics themselves.
  backward: null,
});

/** Mean and biased variance per group of `x` ([2, groups]). */
export function normStatistics(x: Tensor, grouping: Grouping): Tensor {
  return runOp<StatisticsAttrs>('normStatistics', [x], { grouping });
}

/**
 * Runs the normalize op `name` on x with `stats`, and frees the statistics when nothing will
 * differentiate the result (otherwise its backward reads them; the scope frees them). The
 * result is deferred: a ReLU applied to it before anything else reads it runs in the same pass.
 */
export function normalize(name: string, x: Tensor, stats: Tensor, weight: Tensor | undefined, bias: Tensor | undefined, attrs: NormAttrs): Tensor {
  const out = runOpDeferred<NormAttrs>(name, [x, stats, ...(weight ? [weight] : []), ...(bias ? [bias] : [])], attrs);
  if (!out.gradFn) stats.dispose();
  return out;
}

/** An input without elements normalizes to an empty result (PyTorch leaves running statistics alone then). */
export function emptyNorm(x: Tensor): Tensor {
  return affine(x, 1, 0);
}

// ---- backward ----

interface GradSumsAttrs extends NormAttrs {
  over: SumOver;
  weighted: boolean;
}

interface GradInputAttrs extends NormAttrs {
  weightedSums: boolean;
}

/**
 * Inputs of the backward ops, in this order: x, stats, dy, then weight (hasWeight), the
 * forward output y (relu: its sign masks dy), the group sums (gradInput with batch stats).
 */
interface GradTensors<T> {
  x: T;
  stats: T;
  dy: T;
  weight?: T;
  y?: T;
  sums?: T;
}

function gradList<T>(t: GradTensors<T>): T[] {
  return [t.x, t.stats, t.dy, ...(t.weight ? [t.weight] : []), ...(t.y ? [t.y] : []), ...(t.sums ? [t.sums] : [])];
}

function gradNamed<T>(inputs: readonly T[], attrs: NormAttrs, withSums: boolean): GradTensors<T> {
  const [x, stats, dy, ...rest] = inputs;
  let k = 0;
  const weight = attrs.hasWeight ? rest[k++] : undefined;
  const y = attrs.relu ? rest[k++] : undefined;
  const sums = withSums ? rest[k++] : undefined;
  return { x, stats, dy, weight, y, sums };
}

function sumsShape(x: Shape, attrs: GradSumsAttrs): number[] {
  const l = normLayout(attrs.grouping, x);
  return [2, attrs.over === 'groups' ? l.groups : l.affineCount];
}

// [Σ dy·w, Σ dy·w·x̂] per group or weight entry; w = γ·r when weighted, else 1.
registerOp<GradSumsAttrs>({
  name: 'normGradSums',
  shape: ([x], attrs) => sumsShape(x, attrs),
  cpu: (inputs, out, attrs) => {
    const t = gradNamed(inputs, attrs, false);
    normGradSumsReference(t, elementGroups(attrs.grouping, t.x.shape), out, attrs);
  },
  gpu: (inputs, out, attrs, ctx) => {
    const t = gradNamed(inputs, attrs, false);
    return gradSumsPrograms(t, out, normLayout(attrs.grouping, t.x.shape), attrs, attrs.eps, attrs.over, attrs.weighted, ctx);
  },
  backward: null,
});

registerOp<GradInputAttrs>({
  name: 'normGradInput',
  shape: ([x]) => x,
  cpu: (inputs, dx, attrs) => {
    const t = gradNamed(inputs, attrs, attrs.batchStats);
    normGradInputReference(t, elementGroups(attrs.grouping, t.x.shape), dx, attrs);
  },
  gpu: (inputs, dx, attrs) => {
    const t = gradNamed(inputs, attrs, attrs.batchStats);
    return [gradInputProgram(t, dx, normLayout(attrs.grouping, t.x.shape), attrs, attrs.eps, attrs.weightedSums)];
  },
  backward: null,
});

/** The two backward sums ([2, K]). */
function gradSums(t: GradTensors<Tensor>, attrs: NormAttrs, over: SumOver, weighted: boolean): Tensor {
  // Sums over weight entries ignore γ; leaving it out spares a binding.
  const sumsAttrs: GradSumsAttrs = { ...attrs, hasWeight: weighted && attrs.hasWeight, over, weighted };
  return runOp<GradSumsAttrs>('normGradSums', gradList({ ...t, weight: sumsAttrs.hasWeight ? t.weight : undefined }), sumsAttrs);
}

/** Row `i` of a [rows, K] tensor, shaped like `shape`. */
function row(t: Tensor, i: number, shape: Shape): Tensor {
  return narrow(t, 0, i, 1).view(shape);
}

/**
 * dx, dγ, dβ. dx = invstd·(g − mean(g) − x̂·mean(g·x̂)) over each group with g = dy·γ·r (the
 * statistics depend on x: a dense Jacobian), or dy·γ·r·invstd with given statistics;
 * dγ = Σ dy·(x̂·r + d) and dβ = Σ dy per weight entry. The fused ReLU masks dy first.
 */
function normBackward({ grad, inputs, output, attrs }: BackwardContext<NormAttrs>, reduceGroupSums: GroupSumsReducer | undefined): (Tensor | null)[] {
  const { x, stats, weight, bias } = named(inputs, attrs);
  const l = normLayout(attrs.grouping, x.shape);
  const t: GradTensors<Tensor> = { x, stats, dy: grad, weight, y: attrs.relu ? output : undefined };
  const shared = groupsAreEntries(l);
  const wantWeight = weight?.requiresGrad === true;
  const wantBias = bias?.requiresGrad === true;
  const wantX = x.requiresGrad;
  // Per weight entry: dγ and dβ; for batch norm also the group sums (of dy alone).
  const entrySums = wantWeight || wantBias || (wantX && attrs.batchStats && shared) ? gradSums(t, attrs, 'entries', false) : null;
  let dx: Tensor | null = null;
  if (wantX) {
    const local = attrs.batchStats ? (shared ? entrySums! : gradSums(t, attrs, 'groups', true)) : undefined;
    const sums = local && reduceGroupSums ? reduceGroupSums(local, attrs) : local;
    dx = runOp<GradInputAttrs>('normGradInput', gradList({ ...t, sums }), { ...attrs, weightedSums: !shared });
  }
  let dWeight: Tensor | null = null;
  if (weight && wantWeight) {
    const dyXhat = row(entrySums!, 1, weight.shape);
    // Batch renormalization: y = γ·(x̂·r + d) + β, with r and d constants.
    dWeight = attrs.renorm ? add(mul(dyXhat, row(stats, 2, weight.shape)), mul(row(entrySums!, 0, weight.shape), row(stats, 3, weight.shape))) : dyXhat;
  }
  const dBias = bias && wantBias ? row(entrySums!, 0, bias.shape) : null;
  return [dx, null, ...(weight ? [dWeight] : []), ...(bias ? [dBias] : [])];
}
