import type { KernelArg } from '../backend/backend.ts';
import type { GpuStorage } from '../backend/webgpu/webgpu_backend.ts';
import { sizeOf } from '../util/shape.ts';
import { dispatch1d, type Program } from '../backend/webgpu/program.ts';

const WG = 256;

/** How one dropout mask is drawn and applied: see shaders/dropout.wgsl. */
export interface DropoutMask {
  /** Which mask: the same seed gives the same mask. */
  seed: number;
  /** Elements whose 24-bit hash is below this (in [0, 2^24]) are dropped. */
  threshold: number;
  /** The factor kept elements are multiplied by, 1 / (1 − p). */
  scale: number;
}

export function dropoutProgram(x: KernelArg<GpuStorage>, out: KernelArg<GpuStorage>, mask: DropoutMask): Program {
  const n = sizeOf(out.shape);
  return {
    kernel: 'dropout',
    uniforms: { n, seed: mask.seed, threshold: mask.threshold, scale: mask.scale },
    bindings: { x: x.storage, out: out.storage },
    dispatch: dispatch1d(n, WG),
  };
}
