import type { Tensor } from '../tensor/tensor.ts';
import { copyProgram } from '../kernels/layout.ts';
import { sameShape, shapeToString, stridesOf } from '../util/shape.ts';
import { runInPlace } from './in_place.ts';

/**
 * Overwrites `target`'s values in place with `source` (a tensor of the same shape on the same
 * backend, or host values in row-major order), like PyTorch's `target.copy_(source)` under
 * `no_grad`: nothing is recorded for autograd, and views sharing the storage see the new values.
 * Used to load weights and to set running statistics without reallocating them, so optimizers and
 * modules that hold the tensor keep working.
 */
export function assign(target: Tensor, source: Tensor | Float32Array): void {
  const op = 'assign';
  const backend = target.backendFor(op);
  if (source instanceof Float32Array) {
    if (source.length !== target.size) {
      throw new Error(`${op}: target of shape ${shapeToString(target.shape)} holds ${target.size} values, got ${source.length}`);
    }
    backend.write(target.storageForWrite(op), source);
    return;
  }
  if (!sameShape(source.shape, target.shape)) {
    throw new Error(`${op}: expected a source of shape ${shapeToString(target.shape)}, got ${shapeToString(source.shape)}`);
  }
  if (source.backendFor(op) !== backend) {
    throw new Error(`${op}: source is on ${source.backend.description} but target is on ${backend.description}`);
  }
  const src = source.storageFor(op);
  const dst = target.storageFor(op);
  if (src === dst || target.size === 0) return;
  const strides = stridesOf(target.shape);
  const { bindings: _unused, ...program } = copyProgram({ shape: target.shape, src, srcStrides: strides, dst, dstStrides: strides });
  runInPlace(op, backend, { src: source, dst: target }, program, (d) => d.dst.set(d.src));
}
