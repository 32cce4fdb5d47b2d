import type { KernelArg } from '../backend/backend.ts';
import type { GpuStorage } from '../backend/webgpu/webgpu_backend.ts';
import { sizeOf, type Shape } from '../util/shape.ts';
import { dims8 } from './elementwise.ts';
import { dispatch1d, type Program } from '../backend/webgpu/program.ts';

const WG = 256;

function gatherUniforms(n: number, dim: number, x: Shape, index: Shape): Record<string, number | number[]> {
  return { n, rank: x.length, dim, x_shape: dims8(x, 1), index_shape: dims8(index, 1) };
}

/** out = x gathered along dim at index; one thread per output element. */
export function gatherProgram(dim: number, x: KernelArg<GpuStorage>, index: KernelArg<GpuStorage>, out: KernelArg<GpuStorage>): Program {
  const n = sizeOf(out.shape);
  return {
    kernel: 'gather',
    uniforms: gatherUniforms(n, dim, x.shape, index.shape),
    bindings: { x: x.storage, index: index.storage, out: out.storage },
    dispatch: dispatch1d(n, WG),
  };
}

/** dx (shaped like x) from the gradient of gather's output; one thread per element of x. */
export function gatherBackwardProgram(dim: number, grad: KernelArg<GpuStorage>, index: KernelArg<GpuStorage>, dx: KernelArg<GpuStorage>): Program {
  const n = sizeOf(dx.shape);
  return {
    kernel: 'gather',
    entryPoint: 'gather_backward',
    uniforms: gatherUniforms(n, dim, dx.shape, index.shape),
    bindings: { grad: grad.storage, index: index.storage, dx: dx.storage },
    dispatch: dispatch1d(n, WG),
  };
}
