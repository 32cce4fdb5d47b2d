import type { KernelArg } from '../backend/backend.ts';
import type { GpuStorage } from '../backend/webgpu/webgpu_backend.ts';
import { DEFAULT_GPU_TRAITS, LONG_SERIAL_MAX, LONG_SERIAL_OUTPUTS, type GpuTraits } from '../backend/webgpu/traits.ts';
import { stridesOf, type Shape } from '../util/shape.ts';
import { dims8 } from './elementwise.ts';
import { dispatch1d, type Program } from './program.ts';

/** What a reduction computes; the kernel's OP override. */
export type Reduction = 'sum' | 'mean' | 'max' | 'min' | 'variance';

const OP_IDS: Record<Reduction, number> = { sum: 0, mean: 1, max: 2, min: 3, variance: 4 };

/** Floats per chunk state: (count, mean, M2) for variance, one value otherwise. */
export function partialWidth(reduction: Reduction): number {
  return reduction === 'variance' ? 3 : 1;
}

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

/** Geometry of reducing a contiguous tensor of `shape` over `axes` (normalised, ascending). */
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
 * The kernel file a reduction runs: `reduce_subgroups` merges each workgroup with subgroup
 * operations (for a device with the 'subgroups' feature), `reduce` with a shared-memory tree.
 * They declare the same entry points, uniforms and overrides and compute the same values.
 */
export function reduceKernel(subgroups: boolean): 'reduce' | 'reduce_subgroups' {
  return subgroups ? 'reduce_subgroups' : 'reduce';
}

/** The smallest power of two at least `n`, capped at `max`. */
export function powerOfTwoAtLeast(n: number, max: number): number {
  let p = 1;
  while (p < n && p < max) p *= 2;
  return p;
}

function reduceUniforms(g: ReductionGeometry, chunks: number, correction: number): Record<string, number | number[]> {
  return {
    n_out: g.outputs,
    chunks,
    chunk_len: chunkLength(g.reduced, chunks),
    reduced: g.reduced,
    kept_rank: g.keptShape.length,
    reduced_rank: g.reducedShape.length,
    correction,
    kept_shape: dims8(g.keptShape, 1),
    kept_strides: dims8(g.keptStrides),
    reduced_shape: dims8(g.reducedShape, 1),
    reduced_strides: dims8(g.reducedStrides),
  };
}

/**
 * One-level reduction of `x` into the finished `out` (one value per output, row-major over
 * the kept dims): one thread per output for short reductions, else one workgroup per output.
 * `traits` pick the subgroup kernel (see `reduceKernel`) and the workgroup size.
 */
export function reduceProgram(reduction: Reduction, x: KernelArg<GpuStorage>, out: KernelArg<GpuStorage>, g: ReductionGeometry, correction = 0, traits: GpuTraits = DEFAULT_GPU_TRAITS): Program {
  const uniforms = reduceUniforms(g, 1, correction);
  const bindings = { x: x.storage, out: out.storage };
  if (runsSerially(g, traits)) {
    const wg = 64;
    return { kernel: reduceKernel(traits.subgroups), entryPoint: 'serial', overrides: { OP: OP_IDS[reduction], WG: wg }, uniforms, bindings, dispatch: dispatch1d(g.outputs, wg) };
  }
  const wg = powerOfTwoAtLeast(g.reduced, traits.reductionWorkgroup);
  return { kernel: reduceKernel(traits.subgroups), entryPoint: 'main', overrides: { OP: OP_IDS[reduction], WG: wg }, uniforms, bindings, dispatch: dispatch1d(g.outputs, 1) };
}

/**
 * First level of a split reduction: each of `chunks` workgroups per output writes the state
 * of its chunk to `partials` ([outputs, chunks, partialWidth]).
 */
export function reducePartialsProgram(reduction: Reduction, x: KernelArg<GpuStorage>, partials: KernelArg<GpuStorage>, g: ReductionGeometry, chunks: number, traits: GpuTraits = DEFAULT_GPU_TRAITS): Program {
  const wg = powerOfTwoAtLeast(chunkLength(g.reduced, chunks), traits.reductionWorkgroup);
  return {
    kernel: reduceKernel(traits.subgroups),
    entryPoint: 'main',
    overrides: { OP: OP_IDS[reduction], WG: wg, PARTIAL: true },
    uniforms: reduceUniforms(g, chunks, 0),
    bindings: { x: x.storage, out: partials.storage },
    dispatch: dispatch1d(g.outputs * chunks, 1),
  };
}

/** Second level: merges each output's chunk states from `partials` and writes the finished values. */
export function mergeProgram(reduction: Reduction, partials: KernelArg<GpuStorage>, out: KernelArg<GpuStorage>, g: ReductionGeometry, chunks: number, correction = 0, traits: GpuTraits = DEFAULT_GPU_TRAITS): Program {
  const wg = powerOfTwoAtLeast(chunks, traits.reductionWorkgroup);
  return {
    kernel: reduceKernel(traits.subgroups),
    entryPoint: 'merge',
    overrides: { OP: OP_IDS[reduction], WG: wg },
    uniforms: { n_out: g.outputs, chunks, reduced: g.reduced, correction },
    bindings: { partials: partials.storage, out: out.storage },
    dispatch: dispatch1d(g.outputs, 1),
  };
}
