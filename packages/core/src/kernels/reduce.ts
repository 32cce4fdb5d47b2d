import type { GpuContext } from '../backend/op_kernel.ts';
import type { KernelArg } from '../backend/storage.ts';
import type { GpuStorage } from '../backend/webgpu/gpu_storage.ts';
import type { Program } from '../backend/webgpu/program.ts';
import { reductionPrograms, type ReductionGeometry, type ReductionSpec } from './reduction_plan.ts';

/** What a public reduction computes. */
export type Reduction = 'sum' | 'mean' | 'max' | 'min' | 'variance';

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
    params: { correction },
    mergeParams: { correction },
    bindings: { x: x.storage },
    out: out.storage,
  };
}
