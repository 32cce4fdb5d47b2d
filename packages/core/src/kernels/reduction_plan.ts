import type { GpuContext } from '../backend/op_kernel.ts';
import type { GpuStorage } from '../backend/webgpu/gpu_storage.ts';
import { dispatch1d, type Program } from '../backend/webgpu/program.ts';
import { LONG_SERIAL_MAX, LONG_SERIAL_OUTPUTS, type GpuTraits } from '../backend/webgpu/traits.ts';
import { stridesOf, type Shape } from '../util/shape.ts';
import { dims8 } from './elementwise.ts';
import { opCode, type OpName } from './op_codes.ts';

/**
 * How every reduction runs on a GPU: the plain reductions, the normalization statistics and
 * gradient sums, the split weight gradient of a convolution. A reduction's geometry becomes
 * one dispatch (a workgroup per output, or a thread per output for short ones), or two: a
 * partials pass writing each chunk's state into scratch storage, and a merge pass. Ops never
 * see the split; the kernels (shaders/lib/reduction.wgsl) are shared.
 */

/** What a reduction computes: a `reduce` op code (shaders/lib/reduction.wgsl's OP). */
export type ReduceOp = OpName<'reduce'>;

/**
 * Where an input's elements sit for a reduction over some axes, without moving them: the
 * kept dims (one output per kept index) and the reduced dims, each with its shape and its
 * strides in the input. Size-1 dims are dropped and neighbours that are contiguous in
 * memory are fused, so a full reduction is one reduced dim of stride 1.
 */
export interface ReductionGeometry {
  /** Number of outputs (product of the kept sizes). */
  readonly outputs: number;
  /** Elements reduced into each output. */
  readonly reduced: number;
  readonly keptShape: number[];
  readonly keptStrides: number[];
  readonly reducedShape: number[];
  readonly reducedStrides: number[];
}

/** Geometry of reducing a contiguous tensor of `shape` over `axes` (normalized, ascending). */
export function reductionGeometry(shape: Shape, axes: readonly number[]): ReductionGeometry {
  const strides = stridesOf(shape);
  const reducedAxes = new Set(axes);
  const kept = fuse(shape.map((_, d) => d).filter((d) => !reducedAxes.has(d)), shape, strides);
  const reduced = fuse(shape.map((_, d) => d).filter((d) => reducedAxes.has(d)), shape, strides);
  return {
    outputs: kept.shape.reduce((p, d) => p * d, 1),
    reduced: reduced.shape.reduce((p, d) => p * d, 1),
    keptShape: kept.shape,
    keptStrides: kept.strides,
    reducedShape: reduced.shape,
    reducedStrides: reduced.strides,
  };
}

/** Drops size-1 dims of the list and merges neighbours whose memory is contiguous (row-major order is kept). */
function fuse(dims: number[], shape: Shape, strides: readonly number[]): { shape: number[]; strides: number[] } {
  const outShape: number[] = [];
  const outStrides: number[] = [];
  for (const d of dims) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && outStrides[last] === shape[d] * strides[d]) {
      outShape[last] *= shape[d];
      outStrides[last] = strides[d];
    } else {
      outShape.push(shape[d]);
      outStrides.push(strides[d]);
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** Reductions this short run one thread per output: a workgroup would mostly idle. */
export const SERIAL_MAX = 32;
/** Whether a one-level reduction runs one thread per output (looping) rather than a workgroup per output. */
export function runsSerially(g: ReductionGeometry, traits: GpuTraits): boolean {
  if (g.reduced <= SERIAL_MAX) return true;
  return traits.longSerialReductions && g.outputs >= LONG_SERIAL_OUTPUTS && g.reduced <= LONG_SERIAL_MAX;
}

/** Elements one workgroup takes on at least before a reduction is split into chunks. */
export const CHUNK_MIN = 4096;
/** Workgroups a split reduction aims for: enough to occupy a large GPU. */
export const TARGET_WORKGROUPS = 1024;

/**
 * How many chunks to split each output's reduction into, for a reduction done in two
 * levels (chunk states, then a merge). 1 means one level: either the outputs alone give
 * enough workgroups, or the reduction is too short to be worth a second dispatch.
 */
export function chunkCount(g: ReductionGeometry): number {
  if (g.reduced < 2 * CHUNK_MIN || g.outputs >= TARGET_WORKGROUPS) return 1;
  return Math.max(1, Math.min(Math.ceil(g.reduced / CHUNK_MIN), Math.ceil(TARGET_WORKGROUPS / g.outputs)));
}

/** Reduced elements per chunk when each output's reduction is split into `chunks`. */
export function chunkLength(reduced: number, chunks: number): number {
  return Math.max(1, Math.ceil(reduced / chunks));
}

/**
 * The fields of a reduction kernel's `params` that the plan fills: the outputs, how each is
 * split, and the strided geometry of shaders/lib/strided_offsets.wgsl. Without a geometry
 * (passes of a family that reduce nothing but share its uniform struct) they are empty.
 */
export function reductionUniforms(g: ReductionGeometry | null, chunks = 1): Record<string, number | number[]> {
  return {
    n_out: g?.outputs ?? 0,
    chunks,
    chunk_len: g ? chunkLength(g.reduced, chunks) : 0,
    reduced: g?.reduced ?? 0,
    kept_rank: g?.keptShape.length ?? 0,
    reduced_rank: g?.reducedShape.length ?? 0,
    kept_shape: dims8(g?.keptShape ?? [], 1),
    kept_strides: dims8(g?.keptStrides ?? []),
    reduced_shape: dims8(g?.reducedShape ?? [], 1),
    reduced_strides: dims8(g?.reducedStrides ?? []),
  };
}

/** Floats per chunk state: (count, mean, M2) for variance, two sums for sumPair, one value otherwise. */
export function partialWidth(op: ReduceOp): number {
  return op === 'variance' ? 3 : op === 'sumPair' ? 2 : 1;
}

/** The smallest power of two at least `n`, capped at `max`. */
export function powerOfTwoAtLeast(n: number, max: number): number {
  let p = 1;
  while (p < n && p < max) p *= 2;
  return p;
}

/**
 * The kernel a reduction family runs on a device: `NAME_subgroups` (workgroups merge with
 * subgroup operations) where subgroups are on, else `NAME` (a shared-memory tree). The build
 * makes both from one file (scripts/embed-shaders.ts); they compute the same values.
 */
export function reductionKernel(family: string, traits: GpuTraits): string {
  return traits.subgroups ? `${family}_subgroups` : family;
}

/** One reduction as its kernel family declares it. */
export interface ReductionSpec {
  /** The shaders/ file whose entry points run it (it includes lib/reduction.wgsl). */
  readonly family: string;
  readonly entryPoints: { readonly main: string; readonly merge: string; readonly serial: string };
  readonly op: ReduceOp;
  readonly geometry: ReductionGeometry;
  /** The family's own fields of its `params` uniform (the plan adds `reductionUniforms`). */
  readonly params: Record<string, number | readonly number[]>;
  /** Fields of the family's `merge_params` besides n_out, chunks and reduced. */
  readonly mergeParams?: Record<string, number>;
  /** Overrides of the first pass besides OP, WG and PARTIAL. */
  readonly overrides?: Record<string, number | boolean>;
  /** Storage bindings of the first pass besides `out`. */
  readonly bindings: Record<string, GpuStorage>;
  readonly out: GpuStorage;
}

/**
 * The dispatches of a reduction on the device of `ctx`: one, or a partials pass into scratch
 * storage and a merge (see `chunkCount`).
 */
export function reductionPrograms(spec: ReductionSpec, ctx: GpuContext): Program[] {
  return reductionProgramsInChunks(spec, chunkCount(spec.geometry), ctx);
}

/** `reductionPrograms` with each output split into `chunks` (1: one level), whatever the plan would choose. */
export function reductionProgramsInChunks(spec: ReductionSpec, chunks: number, ctx: GpuContext): Program[] {
  const { geometry: g, entryPoints } = spec;
  const { traits } = ctx;
  const kernel = reductionKernel(spec.family, traits);
  const OP = opCode('reduce', spec.op);
  const bindings = (out: GpuStorage): Record<string, GpuStorage> => ({ ...spec.bindings, out });
  const uniforms = { ...spec.params, ...reductionUniforms(g, chunks) };
  if (chunks === 1) {
    if (runsSerially(g, traits)) {
      const overrides = { ...spec.overrides, OP, WG: 64 };
      return [{ kernel, entryPoint: entryPoints.serial, overrides, uniforms, bindings: bindings(spec.out), dispatch: dispatch1d(g.outputs, 64) }];
    }
    const overrides = { ...spec.overrides, OP, WG: powerOfTwoAtLeast(g.reduced, traits.reductionWorkgroup) };
    return [{ kernel, entryPoint: entryPoints.main, overrides, uniforms, bindings: bindings(spec.out), dispatch: dispatch1d(g.outputs, 1) }];
  }
  const partials = ctx.scratch(g.outputs * chunks * partialWidth(spec.op), 'chunk states').storage;
  return [
    {
      kernel,
      entryPoint: entryPoints.main,
      overrides: { ...spec.overrides, OP, WG: powerOfTwoAtLeast(chunkLength(g.reduced, chunks), traits.reductionWorkgroup), PARTIAL: true },
      uniforms,
      bindings: bindings(partials),
      dispatch: dispatch1d(g.outputs * chunks, 1),
    },
    {
      kernel,
      entryPoint: entryPoints.merge,
      overrides: { OP, WG: powerOfTwoAtLeast(chunks, traits.reductionWorkgroup) },
      uniforms: { n_out: g.outputs, chunks, reduced: g.reduced, ...spec.mergeParams },
      bindings: { partials, out: spec.out },
      dispatch: dispatch1d(g.outputs, 1),
    },
  ];
}
