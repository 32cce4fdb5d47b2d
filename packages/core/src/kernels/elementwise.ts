import type { KernelArg } from '../backend/storage.ts';
import type { GpuStorage } from '../backend/webgpu/gpu_storage.ts';
import { opCode, type OpName } from './op_codes.ts';
import { broadcastStrides, sameShape, sizeOf, type Shape } from '../util/shape.ts';
import { dispatch1d, type Program } from '../backend/webgpu/program.ts';

const WG = 256;

/** Pads a per-dimension list to the 8 slots of two vec4<u32> uniforms. */
export function dims8(values: readonly number[], pad = 0): number[] {
  const out = [...values];
  while (out.length < 8) out.push(pad);
  return out;
}

export function unaryProgram(name: OpName<'unary'>, x: KernelArg<GpuStorage>, out: KernelArg<GpuStorage>, alpha = 0, beta = 0): Program {
  const n = sizeOf(out.shape);
  const op = opCode('unary', name);
  const uniforms = { n, alpha, beta };
  if (n % 4 === 0) {
    return { kernel: 'unary', entryPoint: 'main_vec4', overrides: { OP: op }, uniforms, bindings: { x4: x.storage, out4: out.storage }, dispatch: dispatch1d(n / 4, WG) };
  }
  return { kernel: 'unary', entryPoint: 'main', overrides: { OP: op }, uniforms, bindings: { x: x.storage, out: out.storage }, dispatch: dispatch1d(n, WG) };
}

export function binaryProgram(name: OpName<'binary'>, a: KernelArg<GpuStorage>, b: KernelArg<GpuStorage>, out: KernelArg<GpuStorage>): Program {
  const n = sizeOf(out.shape);
  const op = opCode('binary', name);
  const shape: Shape = out.shape;
  const plain = sameShape(a.shape, shape) && sameShape(b.shape, shape);
  if (plain && n % 4 === 0) {
    return {
      kernel: 'binary',
      entryPoint: 'main_vec4',
      overrides: { OP: op },
      uniforms: { n, rank: shape.length, out_shape: dims8(shape, 1), a_strides: dims8([]), b_strides: dims8([]) },
      bindings: { a4: a.storage, b4: b.storage, out4: out.storage },
      dispatch: dispatch1d(n / 4, WG),
    };
  }
  return {
    kernel: 'binary',
    entryPoint: 'main',
    overrides: { OP: op, BROADCAST: !plain },
    uniforms: {
      n,
      rank: shape.length,
      out_shape: dims8(shape, 1),
      a_strides: dims8(broadcastStrides(a.shape, shape)),
      b_strides: dims8(broadcastStrides(b.shape, shape)),
    },
    bindings: { a: a.storage, b: b.storage, out: out.storage },
    dispatch: dispatch1d(n, WG),
  };
}

export function fillProgram(out: KernelArg<GpuStorage>, value: number): Program {
  const n = sizeOf(out.shape);
  return { kernel: 'fill', uniforms: { n, value }, bindings: { out: out.storage }, dispatch: dispatch1d(n, WG) };
}
