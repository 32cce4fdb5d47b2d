// The Gaussian mechanism on a client's normalization statistics: clip the vector to an L2 bound
// C, add independent N(0, σ²) to every value, σ = C·sqrt(2·ln(1.25/δ))/ε (Dwork and Roth 2014,
// Theorem A.1). The classical calibration is stated for ε < 1; at ε = 1 it still holds: the
// exact privacy profile of the Gaussian mechanism (Balle and Wang 2018, Theorem 8) gives at most
// 0.233·δ for every δ on a grid from 1e-15 to 0.89 (checked numerically; docs/federated.md).
// Larger ε would need the analytic calibration and is refused.

/** Gaussian noise on the normalization statistics a client sends to the server. */
export interface StatisticsPrivacy {
  /** ε of (ε, δ)-differential privacy per round, in (0, 1]. */
  epsilon: number;
  /** δ, in (0, 1). */
  delta: number;
  /** The L2 bound C each client's statistics vector is clipped to (> 0). */
  clip: number;
  /** Seed of the noise (default 0). The noise is reproducible, not cryptographic: a simulation. */
  seed?: number;
}

/** Draws standard normal values (core's `Random`). */
export interface NormalSource {
  normal(): number;
}

/** Throws unless ε, δ, C and the seed are usable, naming `owner` and the value given. */
export function checkPrivacy(owner: string, privacy: StatisticsPrivacy): Required<StatisticsPrivacy> {
  if (privacy === null || typeof privacy !== 'object') throw new Error(`${owner}: privacy must be an object { epsilon, delta, clip, seed? }, got ${String(privacy)}`);
  const { epsilon, delta, clip, seed = 0 } = privacy;
  if (typeof epsilon !== 'number' || !(epsilon > 0)) throw new Error(`${owner}: privacy.epsilon must be > 0, got ${String(epsilon)}`);
  if (epsilon > 1) {
    throw new Error(`${owner}: privacy.epsilon must be at most 1, got ${epsilon}: the noise is calibrated with the classical Gaussian mechanism, σ = C·sqrt(2·ln(1.25/δ))/ε, which holds for ε ≤ 1`);
  }
  if (typeof delta !== 'number' || !(delta > 0 && delta < 1)) throw new Error(`${owner}: privacy.delta must be in (0, 1), got ${String(delta)}`);
  if (typeof clip !== 'number' || !(clip > 0) || !Number.isFinite(clip)) throw new Error(`${owner}: privacy.clip (the L2 bound C) must be a finite number > 0, got ${String(clip)}`);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`${owner}: privacy.seed must be a non-negative integer, got ${String(seed)}`);
  return { epsilon, delta, clip, seed };
}

/** σ = C·sqrt(2·ln(1.25/δ))/ε: the noise of the Gaussian mechanism for L2 sensitivity C. */
export function gaussianNoiseSigma(privacy: StatisticsPrivacy): number {
  const { epsilon, delta, clip } = checkPrivacy('gaussianNoiseSigma', privacy);
  return (clip * Math.sqrt(2 * Math.log(1.25 / delta))) / epsilon;
}

/** One vector through the mechanism. */
export interface PrivatizedVector {
  /** The L2 norm of the vector as given. */
  norm: number;
  /** The factor clipping applied: min(1, C / norm). */
  scale: number;
  /** The vector times `scale`: its norm is at most C. */
  clipped: Float64Array;
  /** `clipped` plus the noise: what leaves the client. */
  released: Float64Array;
}

/**
 * Clips `values` to L2 norm at most `clip` (scaling the whole vector, in float64) and adds
 * independent N(0, sigma²) noise to every value, drawn from `rng` in order.
 */
export function gaussianMechanism(values: ArrayLike<number>, { clip, sigma }: { clip: number; sigma: number }, rng: NormalSource): PrivatizedVector {
  if (!(clip > 0) || !Number.isFinite(clip)) throw new Error(`gaussianMechanism: clip must be a finite number > 0, got ${String(clip)}`);
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new Error(`gaussianMechanism: sigma must be a finite number >= 0, got ${String(sigma)}`);
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new Error(`gaussianMechanism: value ${i} is ${values[i]}; clipping needs finite values`);
    sum += values[i] * values[i];
  }
  const norm = Math.sqrt(sum);
  const scale = norm > clip ? clip / norm : 1;
  const clipped = Float64Array.from(values, (v) => v * scale);
  const released = clipped.map((v) => v + sigma * rng.normal());
  return { norm, scale, clipped, released };
}
