import type { HostArray } from '../backend/storage.ts';
import { sizeOf, stridesOf, type Shape } from '../util/shape.ts';

/** Calls `fn` with every multi-index of `shape` in row-major order, and its flat position. */
function forEachIndex(shape: Shape, fn: (index: readonly number[], flat: number) => void): void {
  const n = sizeOf(shape);
  const index = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    fn(index, flat);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
}

/** Flat position of a multi-index in a contiguous tensor of `shape`. */
function flatIndex(index: readonly number[], shape: Shape): number {
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d] + index[d];
  return flat;
}

/** out[i_0, ..., i_{r-1}] = x[j] where j_{dims[k]} = i_k. */
export function permuteReference(x: HostArray, out: HostArray, dims: readonly number[]): void {
  const source = new Array<number>(dims.length);
  forEachIndex(out.shape, (index, flat) => {
    for (let k = 0; k < dims.length; k++) source[dims[k]] = index[k];
    out.data[flat] = x.data[flatIndex(source, x.shape)];
  });
}

/** out[i] = x[begin + i]. */
export function sliceReference(x: HostArray, out: HostArray, begin: readonly number[]): void {
  const source = new Array<number>(begin.length);
  forEachIndex(out.shape, (index, flat) => {
    for (let d = 0; d < begin.length; d++) source[d] = begin[d] + index[d];
    out.data[flat] = x.data[flatIndex(source, x.shape)];
  });
}

/** out = zeros with out[begin + i] = grad[i]: the gradient of a slice. */
export function sliceBackwardReference(grad: HostArray, out: HostArray, begin: readonly number[]): void {
  out.data.fill(0);
  const target = new Array<number>(begin.length);
  forEachIndex(grad.shape, (index, flat) => {
    for (let d = 0; d < begin.length; d++) target[d] = begin[d] + index[d];
    out.data[flatIndex(target, out.shape)] = grad.data[flat];
  });
}

/** Joins the inputs along `axis`: for each outer position, each input's block in turn. */
export function concatReference(inputs: readonly HostArray[], out: HostArray, axis: number): void {
  const outer = sizeOf(out.shape.slice(0, axis));
  const inner = sizeOf(out.shape.slice(axis + 1));
  let o = 0;
  for (let i = 0; i < outer; i++) {
    for (const x of inputs) {
      const block = x.shape[axis] * inner;
      for (let j = 0; j < block; j++) out.data[o++] = x.data[i * block + j];
    }
  }
}

/** Repeats x along its size-1 (and missing leading) dimensions to the output's shape. */
export function broadcastToReference(x: HostArray, out: HostArray, scale = 1): void {
  readBroadcast([x], out, ([v]) => v * scale);
}

/** out = cond != 0 ? a : b, all three broadcast to the output's shape. */
export function whereReference(cond: HostArray, a: HostArray, b: HostArray, out: HostArray): void {
  readBroadcast([cond, a, b], out, ([c, u, v]) => (c !== 0 ? u : v));
}

/** Writes fn(values of the inputs at each output index, with broadcasting) to out. */
function readBroadcast(inputs: readonly HostArray[], out: HostArray, fn: (values: number[]) => number): void {
  const rank = out.shape.length;
  const values = new Array<number>(inputs.length);
  const strides = inputs.map((x) => stridesOf(x.shape));
  forEachIndex(out.shape, (index, flat) => {
    inputs.forEach((x, k) => {
      const lead = rank - x.shape.length;
      let at = 0;
      for (let d = 0; d < x.shape.length; d++) {
        const i = x.shape[d] === 1 ? 0 : index[d + lead];
        at += i * strides[k][d];
      }
      values[k] = x.data[at];
    });
    out.data[flat] = fn(values);
  });
}
