import type { HostArray } from '../backend/storage.ts';

/**
 * torch.histc's counts, from its definition: `bins` equal bins over [lo, hi]; value v falls in
 * bin floor((v − lo)·bins / (hi − lo)), v = hi in the last bin; values outside [lo, hi] and NaN
 * are not counted. The bin index is evaluated in float32, one rounding per operation as
 * torch.histc does for a float32 tensor, so that both put a value near an edge in the same bin.
 */
export function histogramReference(x: HostArray, out: HostArray, bins: number, lo: number, hi: number): void {
  const f32 = Math.fround;
  const low = f32(lo);
  const high = f32(hi);
  const width = f32(high - low);
  const counts = new Float64Array(bins);
  for (const v of x.data) {
    if (!(v >= low && v <= high)) continue; // also skips NaN
    const b = Math.floor(f32(f32(f32(v - low) * bins) / width));
    counts[Math.min(b, bins - 1)] += 1;
  }
  out.data.set(counts);
}
