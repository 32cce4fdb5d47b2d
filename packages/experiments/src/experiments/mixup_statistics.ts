// What batch norm sees under Mixup, measured per channel of a conv's output (the first batch
// norm's input in the digit CNN), and what it should see.
//
// The prediction. Take one batch of B samples and one channel; a_{i,p} is sample i's conv output
// at position p, μ its mean over the batch and the positions. Write a_{i,p} − μ = m_p + e_{i,p}:
// m_p is the batch's mean image at p (less μ) and e_{i,p} the sample's deviation from it, with
// Σ_i e_{i,p} = 0. The conv is linear and mixup mixes every sample with a partner π(i), so the
// mixed output is λ·a_{i,p} + (1 − λ)·a_{π(i),p} (a bias, or zero padding over the background, is
// the same in both and stays). π permutes the batch, so the mean stays μ, and the deviation becomes
// m_p + λ·e_{i,p} + (1 − λ)·e_{π(i),p}. Its mean square over (i, p) is
//   S + (λ² + (1 − λ)²)·W + 2λ(1 − λ)·mean_{i,p} e_{i,p}·e_{π(i),p},
// with S = mean_p m_p² (the variance of the batch's mean image: what all samples share) and
// W = mean_{i,p} e_{i,p}² (the samples' own part); S + W is the clean variance V. A uniformly
// random permutation sends i to every j (i included) with probability 1/B, so the last term
// averages to mean_{i,p} e_{i,p}·(1/B)Σ_j e_{j,p} = 0. With λ ~ Beta(α, α),
//   E[V_mixed] / V = s + k·(1 − s),  s = S/V,  k = E[λ² + (1 − λ)²] = (α + 1)/(2α + 1).
// Only the samples' own part shrinks by k (2/3 at α = 1); the shared part — the mean digit's
// shape as the filter sees it, the border where the zero padding meets the background — is the
// same in every mixed sample. The ratio is k only when the samples share nothing (s = 0).
import { batchNorm, concat, div, mean, noGrad, tidy, variance, type Random, type Tensor } from '@welford/core';
import { mixup, type ClassificationDataset } from '@welford/data';
import type { Conv2d } from '@welford/layers';
import { digitBatches } from '../training/digits.ts';

/** k = E[λ² + (1 − λ)²] for λ ~ Beta(α, α): 1 − 2·E[λ(1 − λ)] = 1 − α/(2α + 1). */
export function expectedShrink(alpha: number): number {
  return (alpha + 1) / (2 * alpha + 1);
}

/** Per channel: var(b)/var(a) over (N, H, W), and s = S/V of `a` (the batch's mean image's variance over its total). */
function ratioAndShare(a: Tensor, b: Tensor | null): Tensor {
  const clean = variance(a, [0, 2, 3], { correction: 0 });
  const shared = variance(mean(a, 0), [1, 2], { correction: 0 });
  return concat([b ? div(variance(b, [0, 2, 3], { correction: 0 }), clean) : clean, div(shared, clean)]);
}

/** One batch: λ, the measured ratio and the predictions, each the mean over channels. */
export interface MixedBatchReading {
  lambda: number;
  measured: number;
  /** s + (λ² + (1 − λ)²)(1 − s): the prediction for this batch's λ. */
  predictedForLambda: number;
  /** s + k(1 − s): the prediction averaged over λ. */
  predicted: number;
  share: number;
}

/** Means over channels of what `ratioAndShare` read back ([ratios..., shares...]). */
function channelMeans(values: Float32Array, f: number): { measured: number; predicted: number; share: number } {
  const channels = values.length / 2;
  let measured = 0;
  let predicted = 0;
  let share = 0;
  for (let c = 0; c < channels; c++) {
    const s = values[channels + c];
    measured += values[c];
    predicted += s + f * (1 - s);
    share += s;
  }
  return { measured: measured / channels, predicted: predicted / channels, share: share / channels };
}

/**
 * `batches` batches of `batchSize` normalized training digits, each through `conv` clean and mixed
 * by `mixup` (α, `rng`); calls `onBatch` with each reading as it is measured.
 */
export async function measureMixedBatches(conv: Conv2d, train: ClassificationDataset, options: { alpha: number; batches: number; batchSize: number; seed: number; rng: Random }, onBatch: (reading: MixedBatchReading) => void): Promise<MixedBatchReading[]> {
  const { alpha, batches, batchSize, seed, rng } = options;
  const k = expectedShrink(alpha);
  const readings: MixedBatchReading[] = [];
  for (const batch of digitBatches(train, batchSize, batches, seed)) {
    let values: Float32Array;
    let lambda: number;
    try {
      const mixed = mixup(batch, alpha, rng);
      lambda = mixed.lambda;
      const stats = noGrad(() => tidy(() => ratioAndShare(conv.call(batch.x), conv.call(mixed.x))));
      mixed.x.dispose();
      mixed.yA.dispose();
      mixed.yB.dispose();
      values = await stats.toArray().finally(() => stats.dispose());
    } finally {
      batch.x.dispose();
      batch.y.dispose();
    }
    const forLambda = channelMeans(values, lambda ** 2 + (1 - lambda) ** 2);
    const reading = { lambda, measured: forLambda.measured, predictedForLambda: forLambda.predicted, predicted: channelMeans(values, k).predicted, share: forLambda.share };
    readings.push(reading);
    onBatch(reading);
  }
  return readings;
}

/** What evaluation-mode batch norm makes of clean inputs, per channel, averaged over channels. */
export interface EvalReading {
  /** Var(x̂) of x̂ = (x − running mean)/sqrt(running var + ε) over the inputs. */
  variance: number;
  /** Mean of x̂. */
  mean: number;
  /** s = S/V of the clean inputs (for the prediction of `variance`). */
  share: number;
  /** 1/(s + k(1 − s)) per channel, averaged: Var(x̂) predicted when the running variance was collected on mixed batches. */
  predicted: number;
}

/**
 * `features` ([N, C, H, W], a conv's output on clean test digits) normalized by evaluation-mode
 * batch norm with the given running statistics (without γ, β and the ReLU), and its statistics.
 */
export async function evalNormalized(features: Tensor, runningMean: Tensor, runningVar: Tensor, eps: number, alpha: number | null): Promise<EvalReading> {
  const channels = features.shape[1];
  const values = noGrad(() =>
    tidy(() => {
      const normalized = batchNorm(features, { runningMean, runningVar, eps, training: false });
      return concat([variance(normalized, [0, 2, 3], { correction: 0 }), mean(normalized, [0, 2, 3]), ratioAndShare(features, null)]);
    }),
  );
  const read = await values.toArray().finally(() => values.dispose());
  const k = alpha === null ? 1 : expectedShrink(alpha);
  let variance_ = 0;
  let mean_ = 0;
  let share = 0;
  let predicted = 0;
  for (let c = 0; c < channels; c++) {
    const s = read[3 * channels + c];
    variance_ += read[c];
    mean_ += read[channels + c];
    share += s;
    predicted += 1 / (s + k * (1 - s));
  }
  return { variance: variance_ / channels, mean: mean_ / channels, share: share / channels, predicted: predicted / channels };
}
