import type { KernelArg, Storage } from '../backend/backend.ts';
import type { GpuStorage } from '../backend/webgpu/webgpu_backend.ts';
import { broadcastStrides, sizeOf, stridesOf, type Shape } from '../util/shape.ts';
import { dims8 } from './elementwise.ts';
import { dispatch1d, type Program } from '../backend/webgpu/program.ts';

const WG = 256;

/** One strided copy: every index of `shape` reads `src` and writes `dst` at its own offset and strides. */
export interface StridedCopy {
  shape: Shape;
  src: Storage;
  srcOffset?: number;
  srcStrides: readonly number[];
  dst: Storage;
  dstOffset?: number;
  dstStrides: readonly number[];
  /** Multiplies every value (default 1: a plain copy). */
  scale?: number;
}

export function copyProgram(c: StridedCopy): Program {
  const n = sizeOf(c.shape);
  return {
    kernel: 'copy',
    uniforms: {
      n,
      rank: c.shape.length,
      src_offset: c.srcOffset ?? 0,
      dst_offset: c.dstOffset ?? 0,
      shape: dims8(c.shape, 1),
      src_strides: dims8(c.srcStrides),
      dst_strides: dims8(c.dstStrides),
      scale: c.scale ?? 1,
    },
    bindings: { src: c.src, dst: c.dst },
    dispatch: dispatch1d(n, WG),
  };
}

/** Copies `src` read with `srcStrides` from `srcOffset` into the contiguous output. */
export function gatherProgram(src: KernelArg<GpuStorage>, out: KernelArg<GpuStorage>, srcStrides: readonly number[], srcOffset = 0, scale = 1): Program {
  return copyProgram({ shape: out.shape, src: src.storage, srcOffset, srcStrides, dst: out.storage, dstStrides: stridesOf(out.shape), scale });
}

/** Writes the contiguous `src` into `out` as the block starting at `begin` (per dimension). */
export function scatterProgram(src: KernelArg<GpuStorage>, out: KernelArg<GpuStorage>, begin: readonly number[]): Program {
  const strides = stridesOf(out.shape);
  const offset = begin.reduce((acc, b, d) => acc + b * strides[d], 0);
  return copyProgram({ shape: src.shape, src: src.storage, srcStrides: stridesOf(src.shape), dst: out.storage, dstOffset: offset, dstStrides: strides });
}

export function whereProgram(cond: KernelArg<GpuStorage>, a: KernelArg<GpuStorage>, b: KernelArg<GpuStorage>, out: KernelArg<GpuStorage>): Program {
  const n = sizeOf(out.shape);
  const shape = out.shape;
  return {
    kernel: 'where',
    uniforms: {
      n,
      rank: shape.length,
      out_shape: dims8(shape, 1),
      cond_strides: dims8(broadcastStrides(cond.shape, shape)),
      a_strides: dims8(broadcastStrides(a.shape, shape)),
      b_strides: dims8(broadcastStrides(b.shape, shape)),
    },
    bindings: { cond: cond.storage, a: a.storage, b: b.storage, out: out.storage },
    dispatch: dispatch1d(n, WG),
  };
}
