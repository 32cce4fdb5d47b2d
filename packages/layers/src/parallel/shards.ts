import { narrow, noGrad, toDevice, Tensor, type Backend } from '@welford/core';

/** How `n` samples split over `replicas`: contiguous runs whose sizes differ by at most one, the larger first. */
export function shardSizes(n: number, replicas: number): number[] {
  const base = Math.floor(n / replicas);
  return Array.from({ length: replicas }, (_, r) => base + (r < n % replicas ? 1 : 0));
}

/**
 * Rows [start, start + size) of every tensor field of `batch` whose first dimension is the
 * batch's `n` samples, on `backend` (copied there from the batch's device without waiting);
 * other fields (e.g. Mixup's λ) are passed as they are.
 */
export function shardOf<B extends object>(batch: B, n: number, start: number, size: number, backend: Backend): B {
  return noGrad(() => {
    const shard: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(batch)) {
      if (value instanceof Tensor && value.rank > 0 && value.shape[0] === n) {
        const rows = narrow(value, 0, start, size);
        shard[key] = toDevice(rows, backend);
        // The copy is recorded (or shares the storage): this handle is no longer needed.
        rows.dispose();
      } else {
        shard[key] = value;
      }
    }
    return shard as B;
  });
}
