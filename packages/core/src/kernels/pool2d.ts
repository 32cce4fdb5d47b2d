import type { KernelArg } from '../backend/backend.ts';
import type { GpuStorage } from '../backend/webgpu/webgpu_backend.ts';
import { sizeOf, type Shape } from '../util/shape.ts';
import { dispatch1d, type Program } from '../backend/webgpu/program.ts';

const WG = 256;

/** A 2-D pooling window; every pair is [height, width]. */
export interface PoolWindow {
  readonly kernelSize: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
}

/** Uniforms of pool2d.wgsl for an NCHW input and output; `n` counts the threads that work. */
function poolUniforms(n: number, input: Shape, output: Shape, w: PoolWindow): Record<string, number> {
  return {
    n,
    in_h: input[2],
    in_w: input[3],
    out_h: output[2],
    out_w: output[3],
    kernel_h: w.kernelSize[0],
    kernel_w: w.kernelSize[1],
    stride_h: w.stride[0],
    stride_w: w.stride[1],
    pad_h: w.padding[0],
    pad_w: w.padding[1],
  };
}

/** Max pooling forward: one thread per output element. */
export function maxPoolProgram(w: PoolWindow, x: KernelArg<GpuStorage>, out: KernelArg<GpuStorage>): Program {
  const n = sizeOf(out.shape);
  return {
    kernel: 'pool2d',
    entryPoint: 'max_pool',
    uniforms: poolUniforms(n, x.shape, out.shape, w),
    bindings: { x: x.storage, out: out.storage },
    dispatch: dispatch1d(n, WG),
  };
}

/** Each window's argmax as its window-local offset kh·kernelW + kw: one thread per output element. */
export function maxPoolArgmaxProgram(w: PoolWindow, x: KernelArg<GpuStorage>, argmax: KernelArg<GpuStorage>): Program {
  const n = sizeOf(argmax.shape);
  return {
    kernel: 'pool2d',
    entryPoint: 'max_pool_argmax',
    uniforms: poolUniforms(n, x.shape, argmax.shape, w),
    bindings: { x: x.storage, out: argmax.storage },
    dispatch: dispatch1d(n, WG),
  };
}

/** dx from the output gradient and the argmax offsets: one thread per input element. */
export function maxPoolBackwardProgram(w: PoolWindow, grad: KernelArg<GpuStorage>, argmax: KernelArg<GpuStorage>, dx: KernelArg<GpuStorage>): Program {
  const n = sizeOf(dx.shape);
  return {
    kernel: 'pool2d',
    entryPoint: 'max_pool_backward',
    uniforms: poolUniforms(n, dx.shape, grad.shape, w),
    bindings: { grad: grad.storage, argmax: argmax.storage, dx: dx.storage },
    dispatch: dispatch1d(n, WG),
  };
}

/** Average pooling forward: one thread per output element. */
export function avgPoolProgram(w: PoolWindow, countIncludePad: boolean, x: KernelArg<GpuStorage>, out: KernelArg<GpuStorage>): Program {
  const n = sizeOf(out.shape);
  return {
    kernel: 'pool2d',
    entryPoint: 'avg_pool',
    overrides: { COUNT_INCLUDE_PAD: countIncludePad },
    uniforms: poolUniforms(n, x.shape, out.shape, w),
    bindings: { x: x.storage, out: out.storage },
    dispatch: dispatch1d(n, WG),
  };
}

/** dx of average pooling: one thread per input element. */
export function avgPoolBackwardProgram(w: PoolWindow, countIncludePad: boolean, grad: KernelArg<GpuStorage>, dx: KernelArg<GpuStorage>): Program {
  const n = sizeOf(dx.shape);
  return {
    kernel: 'pool2d',
    entryPoint: 'avg_pool_backward',
    overrides: { COUNT_INCLUDE_PAD: countIncludePad },
    uniforms: poolUniforms(n, dx.shape, grad.shape, w),
    bindings: { grad: grad.storage, dx: dx.storage },
    dispatch: dispatch1d(n, WG),
  };
}
