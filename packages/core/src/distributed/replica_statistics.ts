/**
 * Host-side arithmetic of synchronised batch norm: per-channel statistics of every replica
 * merged into those of the whole batch, in float64.
 *
 * Each replica contributes [n, mean_1..C, var_1..C] (count, mean and biased variance per
 * channel, as its normStatistics gives them). They are merged with Chan's parallel formula,
 * M2 = M2_a + M2_b + δ²·n_a·n_b/(n_a + n_b), δ = mean_b − mean_a: unlike sums of x and x²,
 * nothing cancels when the mean is large against the spread (a channel with mean 1e4 and
 * std 1 keeps its variance in float32).
 */

/** One replica's contribution: its count per channel first, then its [2, C] statistics. */
export function withCount(count: number, statistics: Float32Array): Float32Array {
  const out = new Float32Array(statistics.length + 1);
  out[0] = count;
  out.set(statistics, 1);
  return out;
}

/** The whole batch's count, mean and M2 (sum of squared deviations) per channel. */
export interface MergedStatistics {
  count: number;
  mean: Float64Array;
  m2: Float64Array;
}

/** No values yet, for `mergeChannelStatistics` to add to. */
export function emptyStatistics(channels: number): MergedStatistics {
  return { count: 0, mean: new Float64Array(channels), m2: new Float64Array(channels) };
}

/**
 * Adds `count` values per channel whose mean and biased variance are `statistics` ([2, C] row
 * major) to `state`, in place (Chan's parallel formula, in float64).
 */
export function mergeChannelStatistics(state: MergedStatistics, count: number, statistics: ArrayLike<number>, offset = 0): void {
  if (count === 0) return;
  const channels = state.mean.length;
  const total = state.count + count;
  for (let c = 0; c < channels; c++) {
    const delta = statistics[offset + c] - state.mean[c];
    state.mean[c] += (delta * count) / total;
    state.m2[c] += statistics[offset + channels + c] * count + (delta * delta * state.count * count) / total;
  }
  state.count = total;
}

/** Merges the contributions (see `withCount`) in rank order, so every replica gets the same numbers. */
export function mergeReplicaStatistics(contributions: readonly Float32Array[], channels: number): MergedStatistics {
  const state = emptyStatistics(channels);
  contributions.forEach((part, rank) => {
    if (part.length !== 1 + 2 * channels) {
      throw new Error(`synchronised batch norm: replica ${rank} sent statistics for ${(part.length - 1) / 2} channels, expected ${channels} (do all replicas run the same model?)`);
    }
    mergeChannelStatistics(state, part[0], part, 1);
  });
  return state;
}

/**
 * [mean, biased variance] (for normalizing) and [mean, unbiased variance] (for the running
 * statistics) over every replica. Throws, as batch norm does, when the replicas together have
 * one value per channel.
 */
export function syncedStatistics(contributions: readonly Float32Array[], channels: number): Float32Array[] {
  const { count, mean, m2 } = mergeReplicaStatistics(contributions, channels);
  if (count <= 1) {
    const counts = contributions.map((p) => p[0]).join(', ');
    throw new Error(`syncBatchNorm: Expected more than 1 value per channel when training, got ${count} across the replicas (per replica: ${counts})`);
  }
  const normalizing = new Float32Array(2 * channels);
  const running = new Float32Array(2 * channels);
  for (let c = 0; c < channels; c++) {
    normalizing[c] = running[c] = mean[c];
    normalizing[channels + c] = m2[c] / count;
    running[channels + c] = m2[c] / (count - 1);
  }
  return [normalizing, running];
}
