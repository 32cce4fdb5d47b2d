import type { HostArray } from '../backend/storage.ts';

/**
 * Constant padding, written directly from the definition: output element `o` (a multi-index)
 * is x[o - before] when that index lies inside x, and `value` otherwise. `before[d]` is the
 * padding added before dimension d (negative crops).
 */
export function padReference(x: HostArray, out: HostArray, before: readonly number[], value: number): void {
  const rank = out.shape.length;
  const index = new Array<number>(rank).fill(0);
  for (let flat = 0; flat < out.data.length; flat++) {
    let source = 0;
    let inside = true;
    for (let d = 0; d < rank; d++) {
      const i = index[d] - before[d];
      if (i < 0 || i >= x.shape[d]) {
        inside = false;
        break;
      }
      source = source * x.shape[d] + i;
    }
    out.data[flat] = inside ? x.data[source] : value;
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < out.shape[d]) break;
      index[d] = 0;
    }
  }
}
