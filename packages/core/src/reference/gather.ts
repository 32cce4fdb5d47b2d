import type { HostArray } from '../backend/storage.ts';
import { stridesOf } from '../util/shape.ts';
import { float32Text } from '../util/float32_text.ts';

/** What is wrong with an index value out of range (the GPU's check says the same). */
export function gatherIndexMessage(value: number, size: number, dim: number): string {
  return `gather: index ${float32Text(value)} is out of range for dimension ${dim} of size ${size} (expected an integer in [0, ${size - 1}])`;
}

/** The position an index value names along a dimension; throws unless it is an integer in range. */
function position(value: number, size: number, dim: number): number {
  if (!Number.isInteger(value) || value < 0 || value >= size) throw new Error(gatherIndexMessage(value, size, dim));
  return value;
}

/**
 * Walks every element of `index` with its coordinates and calls fn with its flat position in
 * index and the flat position in x it names (its coordinates with coord[dim] = index value).
 */
function forEachIndex(x: readonly number[], index: HostArray, dim: number, fn: (i: number, xAt: number) => void): void {
  const xStrides = stridesOf(x);
  const iStrides = stridesOf(index.shape);
  for (let i = 0; i < index.data.length; i++) {
    let xAt = 0;
    for (let d = 0; d < index.shape.length; d++) {
      const coord = Math.floor(i / iStrides[d]) % index.shape[d];
      xAt += (d === dim ? position(index.data[i], x[dim], dim) : coord) * xStrides[d];
    }
    fn(i, xAt);
  }
}

/** out[c] = x[c with c[dim] = index[c]] (torch.gather). */
export function gatherReference(x: HostArray, index: HostArray, out: HostArray, dim: number): void {
  forEachIndex(x.shape, index, dim, (i, xAt) => {
    out.data[i] = x.data[xAt];
  });
}

/** Gradient of x: every gradient entry is added to the element of x it was gathered from. */
export function gatherBackwardReference(grad: HostArray, index: HostArray, dx: HostArray, dim: number): void {
  const sums = new Float64Array(dx.data.length);
  forEachIndex(dx.shape, index, dim, (i, xAt) => {
    sums[xAt] += grad.data[i];
  });
  dx.data.set(sums);
}
