import type { KernelArg } from '../backend/backend.ts';
import type { GpuStorage } from '../backend/webgpu/webgpu_backend.ts';
import { sizeOf, type Shape } from '../util/shape.ts';
import { dispatch1d, type Program } from '../backend/webgpu/program.ts';

/** A tensor read as [outer, len, inner]: softmax runs along len, one row per (outer, inner). */
export interface RowLayout {
  readonly rows: number;
  readonly len: number;
  readonly inner: number;
}

export function rowLayout(shape: Shape, axis: number): RowLayout {
  const inner = sizeOf(shape.slice(axis + 1));
  return { rows: sizeOf(shape.slice(0, axis)) * inner, len: shape[axis], inner };
}

/** Threads per row: the smallest power of two covering it, between 32 and 256. */
function threadsFor(len: number): number {
  let wg = 32;
  while (wg < len && wg < 256) wg *= 2;
  return wg;
}

export function softmaxProgram(layout: RowLayout, log: boolean, x: KernelArg<GpuStorage>, out: KernelArg<GpuStorage>): Program {
  return {
    kernel: 'softmax',
    overrides: { WG: threadsFor(layout.len), LOG: log },
    uniforms: { ...layout },
    bindings: { x: x.storage, out: out.storage },
    // One workgroup per row: dispatch1d with one "item" per workgroup.
    dispatch: dispatch1d(layout.rows, 1),
  };
}

/** dx from the forward output y and its gradient g (softmax or log-softmax). */
export function softmaxBackwardProgram(layout: RowLayout, log: boolean, y: KernelArg<GpuStorage>, g: KernelArg<GpuStorage>, dx: KernelArg<GpuStorage>): Program {
  return {
    kernel: 'softmax',
    entryPoint: log ? 'log_softmax_backward' : 'softmax_backward',
    overrides: { WG: threadsFor(layout.len) },
    uniforms: { ...layout },
    bindings: { y: y.storage, g: g.storage, dx: dx.storage },
    dispatch: dispatch1d(layout.rows, 1),
  };
}

/** Mean cross-entropy of logits [rows, classes] against class indices, in one workgroup. */
export function crossEntropyProgram(logits: KernelArg<GpuStorage>, targets: KernelArg<GpuStorage>, out: KernelArg<GpuStorage>): Program {
  const [rows, classes] = logits.shape;
  return {
    kernel: 'cross_entropy',
    uniforms: { rows, classes },
    bindings: { logits: logits.storage, targets: targets.storage, out: out.storage },
    dispatch: [1],
  };
}

/** dlogits = grad · (softmax − onehot) / rows, one workgroup per row. */
export function crossEntropyBackwardProgram(
  logits: KernelArg<GpuStorage>,
  targets: KernelArg<GpuStorage>,
  grad: KernelArg<GpuStorage>,
  dlogits: KernelArg<GpuStorage>,
): Program {
  const [rows, classes] = logits.shape;
  return {
    kernel: 'cross_entropy',
    entryPoint: 'backward',
    overrides: { WG: threadsFor(classes) },
    uniforms: { rows, classes },
    bindings: { logits: logits.storage, targets: targets.storage, grad: grad.storage, dlogits: dlogits.storage },
    dispatch: dispatch1d(rows, 1),
  };
}
