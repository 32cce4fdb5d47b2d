// How much gradient a sigmoid passes: E[σ'(z)] over a population of pre-activations z. Measured on
// the device through autograd (the gradient of Σ σ(z) with respect to z is σ'(z) elementwise),
// and predicted on the host for z ~ N(μ, s²) as ∫ σ'(μ + s·t) φ(t) dt.
import { sigmoid, sum, tidy, type Tensor } from '@welford/core';
import { readMean } from './read_scalar.ts';

/** The mean of σ'(z) over the elements of `z`, via the gradient of sum(sigmoid(z)); `z` is left as it was. */
export async function meanSigmoidSlope(z: Tensor): Promise<number> {
  const leaf = z.detach().requireGrad();
  try {
    tidy(() => sum(sigmoid(leaf)).backward());
    if (!leaf.grad) throw new Error('meanSigmoidSlope: sum(sigmoid(z)) gave z no gradient');
    return await readMean(leaf.grad);
  } finally {
    // A view of z's storage: frees its gradient, not z's values.
    leaf.dispose();
  }
}

/** σ'(z) = σ(z)(1 − σ(z)), written with e^{−|z|} so that it neither overflows nor loses its tail. */
export function sigmoidSlope(z: number): number {
  const e = Math.exp(-Math.abs(z));
  return e / (1 + e) ** 2;
}

/** E[σ'(z)] for z ~ N(mean, std²): Simpson's rule over ±10 standard deviations, in float64. */
export function predictedSigmoidSlope(mean: number, std: number, intervals = 4000): number {
  if (!(std >= 0)) throw new Error(`predictedSigmoidSlope: std must be >= 0, got ${std}`);
  if (std === 0) return sigmoidSlope(mean);
  const h = 20 / intervals;
  let total = 0;
  for (let i = 0; i <= intervals; i++) {
    const t = -10 + i * h;
    const weight = i === 0 || i === intervals ? 1 : i % 2 === 1 ? 4 : 2;
    total += weight * sigmoidSlope(mean + std * t) * Math.exp(-0.5 * t * t);
  }
  return (total * h) / 3 / Math.sqrt(2 * Math.PI);
}
