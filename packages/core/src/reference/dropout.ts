import type { DropoutMask } from '../kernels/dropout.ts';
import type { HostArray } from '../backend/storage.ts';

// The dropout mask as a specification: a counter-based hash of (seed, element index) in u32
// arithmetic (Math.imul and >>> 0 wrap exactly like WGSL's u32), so the GPU draws the same
// mask bit for bit.

/** PCG hash (Jarzynski & Olano 2020): a bijection of the 32-bit integers. */
function pcg(v: number): number {
  const state = (Math.imul(v, 747796405) + 2891336453) >>> 0;
  const word = Math.imul((state >>> ((state >>> 28) + 4)) ^ state, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** The uniform 24-bit integer in [0, 2^24) that decides whether element `index` is kept under `seed`. */
export function dropoutDraw(seed: number, index: number): number {
  return pcg((pcg(index >>> 0) ^ pcg(seed >>> 0)) >>> 0) >>> 8;
}

/** out[i] = x[i] · scale where the draw of i is at least the threshold, x[i] · 0 elsewhere (NaN stays NaN). */
export function dropoutReference(x: HostArray, out: HostArray, { seed, threshold, scale }: DropoutMask): void {
  for (let i = 0; i < out.data.length; i++) out.data[i] = x.data[i] * (dropoutDraw(seed, i) >= threshold ? scale : 0);
}
