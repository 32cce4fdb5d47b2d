import type { GpuContext } from '../backend/op_kernel.ts';
import type { KernelArg } from '../backend/storage.ts';
import type { GpuStorage } from '../backend/webgpu/gpu_storage.ts';
import type { Program } from '../backend/webgpu/program.ts';
import { dims8 } from './elementwise.ts';
import { chunkLength, reductionPrograms, type ReductionGeometry, type ReductionSpec } from './reduction_plan.ts';

/** What a public reduction computes. */
export type Reduction = 'sum' | 'mean' | 'max' | 'min' | 'variance';

/** shaders/reduce.wgsl's `params` for a geometry split into `chunks`. */
function reduceParams(g: ReductionGeometry, chunks: number, correction: number): Record<string, number | number[]> {
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
 * The reduction of `x` (read in place with geometry `g`) into `out`, one value per output,
 * row-major over the kept dims; `correction` is the variance's (torch.var).
 */
export function reducePrograms(reduction: Reduction, x: KernelArg<GpuStorage>, out: KernelArg<GpuStorage>, g: ReductionGeometry, correction: number, ctx: GpuContext): Program[] {
  return reductionPrograms(reduceSpec(reduction, x, out, g, correction), ctx);
}

/** The plain reduction as the reduction plan takes it (shaders/reduce.wgsl). */
export function reduceSpec(reduction: Reduction, x: KernelArg<GpuStorage>, out: KernelArg<GpuStorage>, g: ReductionGeometry, correction: number): ReductionSpec {
  return {
    family: 'reduce',
    entryPoints: { main: 'main', merge: 'merge', serial: 'serial' },
    op: reduction,
    geometry: g,
    params: (chunks) => reduceParams(g, chunks, correction),
    mergeParams: { correction },
    bindings: { x: x.storage },
    out: out.storage,
  };
}
