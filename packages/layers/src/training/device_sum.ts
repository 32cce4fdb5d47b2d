import { add, assign, concat, keep, reshape, shapeToString, tidy, zeros, type Tensor } from '@welford/core';

/**
 * A running sum kept on the device: `add` accumulates in place (one add and one copy), so a
 * metric updated every batch never waits on the GPU. Counts are float32: exact up to 2^24.
 */
export class DeviceSum {
  private acc: Tensor | null = null;

  constructor(private readonly what: string) {}

  /** Adds `t` (call under `noGrad`; `t` stays the caller's). Every call must give the same shape. */
  add(t: Tensor): void {
    if (this.acc === null) {
      this.acc = keep(zeros(t.shape, { backend: t.backend }));
    } else if (shapeToString(this.acc.shape) !== shapeToString(t.shape)) {
      throw new Error(`${this.what}: expected a batch statistic of shape ${shapeToString(this.acc.shape)}, got ${shapeToString(t.shape)}`);
    }
    const acc = this.acc;
    tidy(() => assign(acc, add(acc, t)));
  }

  /** The sum so far, or null before the first `add`. Owned by this object. */
  get tensor(): Tensor | null {
    return this.acc;
  }

  /** Frees the sum; the next `add` starts from zero. */
  reset(): void {
    this.acc?.dispose();
    this.acc = null;
  }
}

/**
 * Reads several device tensors with one readback: they are flattened and joined on the device
 * first. Returns their values in order (an empty array for each null).
 */
export async function readTogether(tensors: readonly (Tensor | null)[]): Promise<Float32Array[]> {
  const live = tensors.filter((t): t is Tensor => t !== null);
  if (live.length === 0) return tensors.map(() => new Float32Array(0));
  const joined = tidy(() => concat(live.map((t) => reshape(t, [t.size])), 0));
  let values: Float32Array;
  try {
    values = await joined.toArray();
  } finally {
    joined.dispose();
  }
  let offset = 0;
  return tensors.map((t) => {
    if (t === null) return new Float32Array(0);
    const part = values.subarray(offset, offset + t.size);
    offset += t.size;
    return part;
  });
}
