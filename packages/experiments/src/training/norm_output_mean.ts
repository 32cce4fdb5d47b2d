// The output mean of a batch norm in evaluation mode, measured on the device, against what the
// stored statistics predict for inputs of another mean: per channel,
//   E[y] = γ·(m − μ_pop) / sqrt(σ²_pop + ε) + β,
// where m is the mean of the batch the layer receives and μ_pop, σ²_pop its running statistics.
import { batchNorm, keep, mean, noGrad, tidy, type Tensor } from '@welford/core';
import { readTogether, type BatchNormBase, type Module } from '@welford/layers';

/** Per channel of one batch norm, on one batch. */
export interface NormOutputMeans {
  /** m: the mean of the layer's input over (N, H, W). */
  inputMean: Float64Array;
  runningMean: Float64Array;
  runningVar: Float64Array;
  weight: Float64Array;
  bias: Float64Array;
  /** (m − μ_pop) / sqrt(σ²_pop + ε): how far the input mean sits from the stored one, in stored standard deviations. */
  shift: Float64Array;
  /** γ·shift + β, in float64 on the host. */
  predicted: Float64Array;
  /** The mean of the layer's evaluation output (before the ReLU that follows it), computed on the device. */
  measured: Float64Array;
}

/**
 * Runs `before` on `x` (the part of the model in front of `norm`), then `norm`'s evaluation
 * arithmetic with its running statistics (its affine output, without the ReLU module after it:
 * the formula is about the norm's output), and reads back the per-channel means together with
 * the layer's state.
 */
export async function normOutputMeans(before: Module<[Tensor], Tensor>, norm: BatchNormBase, x: Tensor): Promise<NormOutputMeans> {
  const { runningMean, runningVar, weight, bias, eps } = norm;
  if (!runningMean || !runningVar || !weight || !bias) throw new Error(`normOutputMeans: the ${norm.typeName} needs running statistics and an affine weight and bias`);
  const [inputMean, outputMean] = noGrad(() =>
    tidy(() => {
      const input = before.call(x);
      const y = batchNorm(input, { runningMean, runningVar, weight, bias, eps, training: false });
      return [keep(mean(input, [0, 2, 3])), keep(mean(y, [0, 2, 3]))];
    }),
  );
  try {
    const [m, measured, mu, v, g, b] = (await readTogether([inputMean, outputMean, runningMean, runningVar, weight, bias])).map((a) => Float64Array.from(a));
    const shift = m.map((mc, c) => (mc - mu[c]) / Math.sqrt(v[c] + eps));
    return { inputMean: m, runningMean: mu, runningVar: v, weight: g, bias: b, shift, predicted: shift.map((s, c) => g[c] * s + b[c]), measured };
  } finally {
    inputMean.dispose();
    outputMean.dispose();
  }
}
