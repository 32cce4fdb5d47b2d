/** A tensor shape: sizes of each dimension, outermost first (row-major). */
export type Shape = readonly number[];

/** Largest rank a GPU kernel accepts: shapes and strides travel in two vec4<u32> uniforms. */
export const MAX_RANK = 8;

export function shapeToString(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a contiguous tensor of this shape. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function assertValidShape(op: string, shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${op}: invalid shape ${shapeToString(shape)}: sizes must be non-negative integers`);
  }
}

/** NumPy/PyTorch broadcasting of two shapes; throws naming the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${op}: shapes ${shapeToString(a)} and ${shapeToString(b)} cannot be broadcast together ` +
          `(dimension ${i} of the result: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides for reading a tensor of shape `from` as if it had the broadcast shape `to`:
 * broadcast dimensions get stride 0.
 */
export function broadcastStrides(from: Shape, to: Shape): number[] {
  const own = stridesOf(from);
  const offset = to.length - from.length;
  return to.map((_, i) => {
    const j = i - offset;
    return j < 0 || from[j] === 1 ? 0 : own[j];
  });
}

/** Normalizes (possibly negative) axes against a rank; throws naming the op on a bad axis. */
export function normalizeAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const seen = new Set<number>();
  for (const a of list) {
    if (!Number.isInteger(a) || a < -rank || a >= Math.max(rank, 1)) {
      throw new Error(`${op}: axis ${a} is out of range for a tensor of rank ${rank} (expected an integer in [${-rank}, ${rank - 1}])`);
    }
    const n = a < 0 ? a + rank : a;
    if (seen.has(n)) throw new Error(`${op}: axis ${a} is repeated in [${list.join(', ')}]`);
    seen.add(n);
  }
  return [...seen].sort((x, y) => x - y);
}

export function assertRankAtMost(op: string, shape: Shape, max = MAX_RANK): void {
  if (shape.length > max) throw new Error(`${op}: tensors of rank at most ${max} are supported, got shape ${shapeToString(shape)}`);
}

/**
 * Where the block of `size` at `begin` inside a row-major tensor of `shape` starts, when its
 * elements are one contiguous run of memory (every dimension before the first partial one is
 * taken one index at a time, every one after it whole); null when they are not.
 */
export function contiguousRunStart(shape: Shape, begin: readonly number[], size: readonly number[]): number | null {
  const strides = stridesOf(shape);
  let d = 0;
  while (d < shape.length && size[d] === 1) d++;
  // From d + 1 on, the block must span whole dimensions.
  for (let k = d + 1; k < shape.length; k++) if (begin[k] !== 0 || size[k] !== shape[k]) return null;
  return begin.reduce((acc, b, k) => acc + b * strides[k], 0);
}
