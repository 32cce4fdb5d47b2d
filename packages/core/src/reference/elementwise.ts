import type { HostArray } from '../backend/storage.ts';
import { broadcastStrides, sizeOf } from '../util/shape.ts';

/** pow as PyTorch defines it for negative bases (real results for integral exponents only). */
export function powReference(u: number, v: number): number {
  return Math.pow(u, v);
}

export function unaryReference(fn: (v: number) => number, x: HostArray, out: HostArray): void {
  for (let i = 0; i < out.data.length; i++) out.data[i] = fn(x.data[i]);
}

/** Broadcasting binary op: walks the output in row-major order with each input's strides. */
export function binaryReference(fn: (u: number, v: number) => number, a: HostArray, b: HostArray, out: HostArray): void {
  const shape = out.shape;
  const as = broadcastStrides(a.shape, shape);
  const bs = broadcastStrides(b.shape, shape);
  const n = sizeOf(shape);
  const coord = new Array<number>(shape.length).fill(0);
  let ai = 0;
  let bi = 0;
  for (let i = 0; i < n; i++) {
    out.data[i] = fn(a.data[ai], b.data[bi]);
    // Increment the multi-index like an odometer, keeping both input offsets in step.
    for (let d = shape.length - 1; d >= 0; d--) {
      coord[d]++;
      ai += as[d];
      bi += bs[d];
      if (coord[d] < shape[d]) break;
      ai -= as[d] * shape[d];
      bi -= bs[d] * shape[d];
      coord[d] = 0;
    }
  }
}
