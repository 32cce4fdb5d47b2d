import type { KernelArg } from '../backend/backend.ts';
import type { GpuStorage } from '../backend/webgpu/webgpu_backend.ts';
import { sizeOf, type Shape } from '../util/shape.ts';
import { dispatch1d, type Program } from '../backend/webgpu/program.ts';

const WG = 256;

/**
 * Source distance per output step along one axis, as PyTorch computes it for a given scale
 * factor: (in − 1)/(out − 1) with aligned corners (0 for one output), otherwise 1/scale —
 * except that equal sizes copy the input.
 */
export function bilinearRatio(inSize: number, outSize: number, scale: number, alignCorners: boolean): number {
  if (alignCorners) return outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
  return inSize === outSize ? 1 : 1 / scale;
}

/** Uniforms of upsample2d.wgsl for an NCHW input and output; `n` counts the threads that work. */
function upsampleUniforms(n: number, input: Shape, output: Shape, scale: readonly [number, number], ratio: readonly [number, number]): Record<string, number> {
  return { n, in_h: input[2], in_w: input[3], out_h: output[2], out_w: output[3], scale_h: scale[0], scale_w: scale[1], ratio_h: ratio[0], ratio_w: ratio[1] };
}

/** Nearest upsampling by integer factors: one thread per output element. */
export function nearestProgram(scale: readonly [number, number], x: KernelArg<GpuStorage>, out: KernelArg<GpuStorage>): Program {
  const n = sizeOf(out.shape);
  return {
    kernel: 'upsample2d',
    entryPoint: 'nearest',
    uniforms: upsampleUniforms(n, x.shape, out.shape, scale, [0, 0]),
    bindings: { x: x.storage, out: out.storage },
    dispatch: dispatch1d(n, WG),
  };
}

/** dx of nearest upsampling (each input sums its scaleH × scaleW block): one thread per input element. */
export function nearestBackwardProgram(scale: readonly [number, number], grad: KernelArg<GpuStorage>, dx: KernelArg<GpuStorage>): Program {
  const n = sizeOf(dx.shape);
  return {
    kernel: 'upsample2d',
    entryPoint: 'nearest_backward',
    uniforms: upsampleUniforms(n, dx.shape, grad.shape, scale, [0, 0]),
    bindings: { grad: grad.storage, dx: dx.storage },
    dispatch: dispatch1d(n, WG),
  };
}

function ratios(input: Shape, output: Shape, scale: readonly [number, number], alignCorners: boolean): [number, number] {
  return [bilinearRatio(input[2], output[2], scale[0], alignCorners), bilinearRatio(input[3], output[3], scale[1], alignCorners)];
}

/** Bilinear resampling: one thread per output element. */
export function bilinearProgram(scale: readonly [number, number], alignCorners: boolean, x: KernelArg<GpuStorage>, out: KernelArg<GpuStorage>): Program {
  const n = sizeOf(out.shape);
  return {
    kernel: 'upsample2d',
    entryPoint: 'bilinear',
    overrides: { ALIGN_CORNERS: alignCorners },
    uniforms: upsampleUniforms(n, x.shape, out.shape, [0, 0], ratios(x.shape, out.shape, scale, alignCorners)),
    bindings: { x: x.storage, out: out.storage },
    dispatch: dispatch1d(n, WG),
  };
}

/** dx of bilinear resampling: one thread per input element gathers the outputs it fed. */
export function bilinearBackwardProgram(scale: readonly [number, number], alignCorners: boolean, grad: KernelArg<GpuStorage>, dx: KernelArg<GpuStorage>): Program {
  const n = sizeOf(dx.shape);
  return {
    kernel: 'upsample2d',
    entryPoint: 'bilinear_backward',
    overrides: { ALIGN_CORNERS: alignCorners },
    uniforms: upsampleUniforms(n, dx.shape, grad.shape, [0, 0], ratios(dx.shape, grad.shape, scale, alignCorners)),
    bindings: { grad: grad.storage, dx: dx.storage },
    dispatch: dispatch1d(n, WG),
  };
}
