import type { KernelArg } from '../backend/backend.ts';
import type { GpuStorage } from '../backend/webgpu/webgpu_backend.ts';
import type { GpuTraits } from '../backend/webgpu/traits.ts';
import { sizeOf } from '../util/shape.ts';
import { fillProgram } from './elementwise.ts';
import { dispatch1d, type Program } from '../backend/webgpu/program.ts';

/** Bins a workgroup counts in its own workgroup memory (4 KiB); more go straight to global atomics. */
export const PRIVATE_BINS = 1024;
/** Elements each invocation counts, at least, before more workgroups are started. */
const PER_INVOCATION = 16;
/**
 * At most this many workgroups: each merges its bins into the global counts once, so more
 * workgroups than the device can run at a time would only add merges.
 */
const MAX_WORKGROUPS = 512;

/**
 * The histogram of x's values into out ([bins]): zero the counts, count (privatised per
 * workgroup where the bins fit), then turn the integer counts into float32.
 */
export function histogramPrograms(x: KernelArg<GpuStorage>, out: KernelArg<GpuStorage>, lo: number, hi: number, traits: GpuTraits): Program[] {
  const n = sizeOf(x.shape);
  const bins = sizeOf(out.shape);
  const wg = traits.reductionWorkgroup;
  const uniforms = { n, bins, lo, hi };
  const privatised = bins <= PRIVATE_BINS;
  const workgroups = Math.min(MAX_WORKGROUPS, Math.max(1, Math.ceil(n / (wg * PER_INVOCATION))));
  return [
    fillProgram(out, 0),
    {
      kernel: 'histogram',
      entryPoint: privatised ? 'main' : 'main_global',
      overrides: privatised ? { WG: wg, PRIVATE_BINS } : { WG: wg },
      uniforms,
      bindings: { x: x.storage, counts: out.storage },
      dispatch: [workgroups],
    },
    { kernel: 'histogram', entryPoint: 'finish', overrides: { WG: wg }, uniforms, bindings: { out: out.storage }, dispatch: dispatch1d(bins, wg) },
  ];
}
