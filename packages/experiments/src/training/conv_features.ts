// Real, non-Gaussian activations as a population to draw batches from: every (channel, position)
// of a randomly initialised 3×3 convolution over the digits is one feature, and the images are the
// population. Drawing images with replacement gives iid batches whose per-feature variance and
// kurtosis are known exactly (those of the population), so sampling laws can be checked on them.
import { abs, div, fromArray, gather, manualSeed, max, mean, noGrad, powScalar, reshape, Random, square, sub, tidy, variance, type Tensor } from '@welford/core';
import type { ClassificationDataset } from '@welford/data';
import { Conv2d } from '@welford/layers';
import { evalBatches } from './digits.ts';

/** Features of a population of samples, with their population statistics. The caller disposes the tensors. */
export interface FeaturePopulation {
  /** [samples, features]: row p holds sample p's features. */
  values: Tensor;
  /** [features]: each feature's population (biased) variance. */
  variance: Tensor;
  /** Each feature's excess kurtosis E[(a − μ)⁴]/σ⁴ − 3 (0 for a Gaussian), read back. */
  excessKurtosis: Float32Array;
  samples: number;
  features: number;
  /** Features left out because they are constant over the population (the conv's bias over blank borders). */
  constant: number;
  /** Features left out because their excess kurtosis is above `maxExcessKurtosis`. */
  heavyTailed: number;
}

/** Options of `convFeatures`. */
export interface ConvFeaturesOptions {
  /** Output channels of the convolution (3×3, stride 2: 13×13 positions each). */
  channels: number;
  /** Seeds the convolution's weights. */
  seed: number;
  /**
   * Leave out features whose excess kurtosis exceeds this (default: keep all). Rare strokes make
   * kurtosis in the hundreds, and moments that large need far more trials to measure.
   */
  maxExcessKurtosis?: number;
}

/** A feature whose variance is below this share of the largest is taken as constant. */
const CONSTANT_SHARE = 1e-6;

/**
 * Every image of `dataset` (normalized as training sees it) through a fresh Conv2d(1, channels, 3,
 * stride 2), before any norm: the features and their population variance and excess kurtosis,
 * without the features that are constant over the dataset or heavier-tailed than asked.
 */
export async function convFeatures(dataset: ClassificationDataset, { channels, seed, maxExcessKurtosis = Infinity }: ConvFeaturesOptions): Promise<FeaturePopulation> {
  manualSeed(seed);
  const conv = new Conv2d(1, channels, 3, { stride: 2 });
  const [batch] = evalBatches(dataset, dataset.length);
  let all: { values: Tensor; variance: Tensor; kurtosis: Tensor; largest: Tensor };
  try {
    all = noGrad(() =>
      tidy(() => {
        const activations = conv.call(batch.x);
        const values = reshape(activations, [activations.shape[0], activations.size / activations.shape[0]]);
        const centred = sub(values, mean(values, 0, true));
        const popVariance = variance(values, 0, { correction: 0 });
        const kurtosis = div(mean(powScalar(centred, 4), 0), square(popVariance));
        return { values, variance: popVariance, kurtosis, largest: max(abs(popVariance)) };
      }),
    );
  } finally {
    conv.dispose();
    batch.x.dispose();
    batch.y.dispose();
  }
  const [variances, kurtosis, largest] = await Promise.all([all.variance.toArray(), all.kurtosis.toArray(), all.largest.item()]);
  all.largest.dispose();
  const varying: number[] = [];
  for (let f = 0; f < variances.length; f++) if (variances[f] > CONSTANT_SHARE * largest) varying.push(f);
  const kept = varying.filter((f) => kurtosis[f] - 3 <= maxExcessKurtosis);
  if (kept.length === 0) {
    for (const t of Object.values(all)) t.dispose();
    throw new Error(`convFeatures: no feature is left (${variances.length - varying.length} constant, ${varying.length} above maxExcessKurtosis ${maxExcessKurtosis})`);
  }
  const samples = all.values.shape[0];
  const picked = noGrad(() =>
    tidy(() => {
      const columns = new Float32Array(samples * kept.length);
      for (let p = 0; p < samples; p++) columns.set(kept, p * kept.length);
      const rowIndex = fromArray(kept, [1, kept.length]);
      return {
        values: gather(all.values, 1, fromArray(columns, [samples, kept.length])),
        variance: reshape(gather(reshape(all.variance, [1, variances.length]), 1, rowIndex), [kept.length]),
      };
    }),
  );
  all.values.dispose();
  all.variance.dispose();
  all.kurtosis.dispose();
  const excessKurtosis = Float32Array.from(kept, (f) => kurtosis[f] - 3);
  return {
    values: picked.values,
    variance: picked.variance,
    excessKurtosis,
    samples,
    features: kept.length,
    constant: variances.length - varying.length,
    heavyTailed: varying.length - kept.length,
  };
}

/**
 * `repeats` batches of `batchSize` rows of `population` drawn with replacement, independently
 * for every feature: [repeats, batchSize, features]. Each (repeat, feature) is one iid sample.
 */
export function drawBatches(population: FeaturePopulation, batchSize: number, repeats: number, rng: Random): Tensor {
  const { samples, features } = population;
  const index = new Float32Array(repeats * batchSize * features);
  for (let i = 0; i < index.length; i++) index[i] = Math.floor(rng.uniform() * samples);
  return tidy(() => reshape(gather(population.values, 0, fromArray(index, [repeats * batchSize, features])), [repeats, batchSize, features]));
}
