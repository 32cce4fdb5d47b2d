import { histogramPrograms } from '../kernels/histogram.ts';
import { histogramReference } from '../reference/histogram.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { runOp } from './dispatch.ts';
import { registerOp } from './registry.ts';

export interface HistogramOptions {
  /** Number of equal bins (default 100, as torch.histc). */
  bins?: number;
  /** Lower edge of the first bin (required: finding the data's range would need a readback). */
  min: number;
  /** Upper edge of the last bin, which includes it; must exceed `min`. */
  max: number;
}

interface HistogramAttrs {
  bins: number;
  min: number;
  max: number;
}

function checkHistogram({ bins, min, max }: HistogramAttrs): void {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`histogram: bins must be a positive integer, got ${String(bins)}`);
  // The bin arithmetic runs in float32: the edges and their difference must be finite there.
  const lo = Math.fround(min);
  const hi = Math.fround(max);
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !Number.isFinite(Math.fround(hi - lo))) {
    throw new Error(`histogram: min and max must be finite float32 numbers with a finite difference, got min ${String(min)}, max ${String(max)}`);
  }
  if (!(lo < hi)) throw new Error(`histogram: max must be greater than min (as float32), got min ${String(min)}, max ${String(max)}`);
}

registerOp<HistogramAttrs>({
  name: 'histogram',
  shape: (_, attrs) => {
    checkHistogram(attrs);
    return [attrs.bins];
  },
  cpu: ([x], out, { bins, min, max }) => histogramReference(x, out, bins, min, max),
  gpu: ([x], out, { min, max }, { traits }) => histogramPrograms(x, out, min, max, traits),
  // Counts are piecewise constant in x; torch.histc is not differentiable either.
  backward: null,
});

/**
 * Counts of x's values (any shape, taken flat) in `bins` equal bins over [min, max], as
 * torch.histc: value v falls in bin floor((v − min)·bins / (max − min)) (evaluated in float32),
 * v = max in the last bin. Values below min or above max are not counted, nor is NaN (torch
 * 1.13's CPU kernel puts NaN in the first bin; later releases and welford ignore it), so the
 * counts sum to the number of elements in [min, max]. Unlike torch.histc, min and max are
 * required. Returns float32 counts [bins], exact up to 2^24 per bin; not differentiable.
 * On the GPU each workgroup counts into private bins in workgroup memory, merged once.
 */
export function histogram(x: Tensor, { bins = 100, min, max }: HistogramOptions): Tensor {
  return runOp<HistogramAttrs>('histogram', [x], { bins, min, max });
}
