import type { ChannelStats } from './record.ts';

/**
 * How far a layer's input distribution moved between two reads: the mean over channels of the
 * 2-Wasserstein distance between Gaussians with each read's per-channel batch mean and
 * standard deviation, in units of the earlier read's standard deviation as the layer
 * normalizes with it:
 *
 *   shift = (1/C) Σ_c sqrt((μ_c − μ'_c)² + (σ_c − σ'_c)²) / sqrt(σ'_c² + ε)
 *
 * (μ', σ': the previous read). Zero when nothing moved; 1 when every channel moved by about its
 * own spread. Statistics stored by a norm layer do not remove covariate shift (a test mean
 * away from the running mean shifts the output), which is what this makes visible. Null when
 * the channel counts differ.
 */
export function covariateShift(previous: ChannelStats, current: ChannelStats, eps: number): number | null {
  const c = current.mean.length;
  if (c === 0 || previous.mean.length !== c) return null;
  let total = 0;
  for (let i = 0; i < c; i++) {
    const s0 = Math.sqrt(previous.var[i]);
    const s1 = Math.sqrt(current.var[i]);
    total += Math.hypot(current.mean[i] - previous.mean[i], s1 - s0) / Math.sqrt(previous.var[i] + eps);
  }
  return total / c;
}
