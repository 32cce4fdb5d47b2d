import type { RandomSource } from './types.ts';

/**
 * One 32-bit seed from a seed and further keys (an epoch, a sample index), so that streams for
 * different keys are unrelated rather than shifted copies of each other. Integer arithmetic only
 * (splitmix32's finaliser), so every machine derives the same seeds.
 */
export function deriveSeed(seed: number, ...keys: number[]): number {
  let h = mix32((seed >>> 0) ^ 0x5bd1e995);
  for (const k of keys) h = mix32((h + 0x9e3779b9 + (k >>> 0)) >>> 0);
  return h;
}

function mix32(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** A uniform integer in [0, n). */
export function randomInt(rng: RandomSource, n: number): number {
  return Math.min(n - 1, Math.floor(rng.uniform() * n));
}

/** A uniformly random permutation of 0..n−1 (Fisher–Yates, drawing from the last position down). */
export function permutation(n: number, rng: RandomSource): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** Gamma(shape, 1) by Marsaglia and Tsang's method; shape < 1 through Gamma(shape + 1)·U^(1/shape). */
export function sampleGamma(rng: RandomSource, shape: number): number {
  if (!(shape > 0) || !Number.isFinite(shape)) throw new Error(`sampleGamma: shape must be a positive finite number, got ${String(shape)}`);
  if (shape < 1) {
    let u = 0;
    while (u === 0) u = rng.uniform();
    return sampleGamma(rng, shape + 1) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = rng.normal();
    const v0 = 1 + c * z;
    if (v0 <= 0) continue;
    const v = v0 * v0 * v0;
    const u = rng.uniform();
    if (u < 1 - 0.0331 * z ** 4 || Math.log(u) < 0.5 * z * z + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b); always in [0, 1]. */
export function sampleBeta(rng: RandomSource, a: number, b: number): number {
  const x = sampleGamma(rng, a);
  const y = sampleGamma(rng, b);
  // Both underflow to 0 only for tiny shapes; the halves of such a draw are equally likely.
  if (x + y === 0) return rng.uniform() < 0.5 ? 0 : 1;
  return x / (x + y);
}
