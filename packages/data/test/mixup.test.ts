import { fromArray, Random, tidy, type Backend } from '@welford/core';
import { describe, expect, it } from 'vitest';
import { mixup, mixupLoss, permutation, sampleBeta } from '../src/index.ts';
import { cpuBackend, gpuBackend, scripted } from './helpers.ts';

const B = 4;
const ROW = 2 * 3 * 3;
const xData = Float32Array.from({ length: B * ROW }, (_, i) => Math.fround(Math.sin(i * 1.7) * 3));
const yData = [2, 0, 1, 2];

/** −log softmax(row)[k] in float64. */
function ce(row: number[], k: number): number {
  const max = Math.max(...row);
  return max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) - row[k];
}

async function backends(): Promise<[string, Backend][]> {
  return [
    ['cpu', cpuBackend()],
    ['gpu', await gpuBackend()],
  ];
}

describe('sampleBeta', () => {
  it('draws λ in [0, 1] with Beta(α, α)’s mean and variance', () => {
    for (const alpha of [0.1, 0.4, 1, 4]) {
      const rng = new Random(17);
      const draws = Array.from({ length: 4000 }, () => sampleBeta(rng, alpha, alpha));
      expect(draws.every((v) => v >= 0 && v <= 1)).toBe(true);
      const mean = draws.reduce((s, v) => s + v, 0) / draws.length;
      const variance = draws.reduce((s, v) => s + (v - mean) ** 2, 0) / (draws.length - 1);
      expect(Math.abs(mean - 0.5), `alpha ${alpha}: mean`).toBeLessThan(0.03);
      const want = 1 / (4 * (2 * alpha + 1));
      expect(Math.abs(variance - want) / want, `alpha ${alpha}: variance`).toBeLessThan(0.1);
    }
  });
});

describe('mixup', () => {
  it('mixes x = λ·x + (1 − λ)·x[partner] exactly, for a known generator, on both backends', async () => {
    for (const [name, backend] of await backends()) {
      // The same seed replayed: λ first, then the permutation.
      const replay = new Random(99);
      const lambda = Math.fround(sampleBeta(replay, 0.4, 0.4));
      const partner = permutation(B, replay);
      const got = tidy(() => {
        const batch = { x: fromArray(xData, [B, 2, 3, 3], { backend }), y: fromArray(yData, [B], { backend }) };
        return mixup(batch, 0.4, new Random(99));
      });
      expect(got.lambda, name).toBe(lambda);
      expect(got.lambda).toBeGreaterThanOrEqual(0);
      expect(got.lambda).toBeLessThanOrEqual(1);
      expect(got.partner).toEqual(partner);
      expect([...got.x.shape]).toEqual([B, 2, 3, 3]);
      const mu = Math.fround(1 - lambda);
      const want = xData.map((v, i) => Math.fround(Math.fround(lambda * v) + Math.fround(mu * xData[partner[Math.floor(i / ROW)] * ROW + (i % ROW)])));
      expect(await got.x.toArray(), name).toEqual(want);
      expect([...(await got.yA.toArray())]).toEqual(yData);
      expect([...(await got.yB.toArray())]).toEqual(partner.map((p) => yData[p]));
      for (const t of [got.x, got.yA, got.yB]) t.dispose();
    }
  });

  it('takes λ and the partners from the draws it is given', async () => {
    // Gamma(1) by Marsaglia–Tsang returns d = 2/3 for a zero normal: both draws equal, so λ = 1/2.
    const rng = scripted([0.5, 0.5, 0.9, 0.9, 0.9], [0, 0]);
    const backend = cpuBackend();
    const got = mixup({ x: fromArray(xData, [B, ROW], { backend }), y: fromArray(yData, [B], { backend }) }, 1, rng);
    expect(got.lambda).toBe(0.5);
    // Fisher–Yates from the last position with draws 0.9: swaps (3,3), (2,2), (1,1).
    expect(got.partner).toEqual([0, 1, 2, 3]);
    expect(await got.x.toArray()).toEqual(xData);
    expect(rng.left()).toBe(0);
  });

  it('checks alpha and the batch shapes', () => {
    const backend = cpuBackend();
    const x = fromArray(xData, [B, ROW], { backend });
    expect(() => mixup({ x, y: fromArray(yData, [B], { backend }) }, 0, new Random(1))).toThrow(/mixup: alpha must be a positive finite number, got 0/);
    expect(() => mixup({ x, y: fromArray([1, 2], [2], { backend }) }, 1, new Random(1))).toThrow(/expected x of shape \[B, \.\.\.\] and y of shape \[B\], got x \[4, 18\] and y \[2\]/);
  });
});

describe('mixupLoss', () => {
  it('is λ·CE(yA) + (1 − λ)·CE(yB), with the matching gradient, on both backends', async () => {
    const n = 3;
    const k = 4;
    const logits = Array.from({ length: n * k }, (_, i) => Math.fround(Math.cos(i * 0.9) * 2));
    const yA = [3, 0, 1];
    const yB = [1, 0, 2];
    const lambda = Math.fround(0.3);
    const rows = Array.from({ length: n }, (_, r) => logits.slice(r * k, r * k + k));
    const want = rows.reduce((s, row, r) => s + lambda * ce(row, yA[r]) + (1 - lambda) * ce(row, yB[r]), 0) / n;
    // d/dlogits = (softmax − λ·onehot(yA) − (1 − λ)·onehot(yB)) / n
    const wantGrad = rows.flatMap((row, r) => {
      const max = Math.max(...row);
      const z = row.reduce((s, v) => s + Math.exp(v - max), 0);
      return row.map((v, j) => (Math.exp(v - max) / z - (j === yA[r] ? lambda : 0) - (j === yB[r] ? 1 - lambda : 0)) / n);
    });
    for (const [name, backend] of await backends()) {
      const l = fromArray(logits, [n, k], { backend, requiresGrad: true });
      const loss = tidy(() => {
        const out = mixupLoss(l, fromArray(yA, [n], { backend }), fromArray(yB, [n], { backend }), lambda);
        out.backward();
        return out;
      });
      expect(Math.abs((await loss.item()) - want), name).toBeLessThan(name === 'cpu' ? 1e-6 : 1e-5);
      const grad = await l.grad!.toArray();
      grad.forEach((g, i) => expect(Math.abs(g - wantGrad[i]), `${name} grad[${i}]`).toBeLessThan(1e-6));
      loss.dispose();
      l.dispose();
    }
    const backend = cpuBackend();
    const [bad, a, b] = [fromArray([0, 0], [1, 2], { backend }), fromArray([0], [1], { backend }), fromArray([1], [1], { backend })];
    expect(() => mixupLoss(bad, a, b, 1.5)).toThrow(/lambda must be a finite number in \[0, 1\], got 1.5/);
  });
});
