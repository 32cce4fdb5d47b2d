import { beforeAll, describe, expect, it } from 'vitest';
import { memory } from '@welford/core';
import { ExperimentAborted } from '../src/index.ts';
import { noisyStatistics } from '../src/experiments/noisy_statistics.ts';
import { expectWellFormed, testContext, useGpu } from './helpers.ts';

describe('noisy-statistics', () => {
  beforeAll(useGpu);

  it('measures the error of batch norm’s variance against 2/(B−1), and the kurtosis term on digit features', async () => {
    const before = memory().liveBuffers;
    const context = testContext();
    const result = await noisyStatistics.run(context, { quick: true, seed: 2 });
    expectWellFormed(result);
    expect(result.holds).toBe(true);
    // Nothing trains: 4 Gaussian batches per B, one conv pass over the digits, 16 digit batches per B.
    expect(result.work).toEqual({ steps: 0, samples: 0, measurements: 4 * 4 + 1 + 4 * 16 });
    expect(noisyStatistics.plan({ quick: true, seed: 2 })).toMatchObject({ steps: result.work.steps, networks: 0 });
    expect(noisyStatistics.plan({ quick: false }).steps).toBe(0);
    const [gaussian, digits] = result.tables;
    // Rows: B, runningVar, 2/(B−1), ratio, rel. s.e., variance(x, 0), biased, (2B−1)/B², trials.
    const rows = gaussian.rows as number[][];
    expect(rows.map((r) => r[0])).toEqual([2, 4, 8, 32]);
    for (const [b, measured, law, ratio, , viaVariance, biased, biasedLaw, trials] of rows) {
      expect(trials).toBe(16384);
      expect(law).toBeCloseTo(2 / (b - 1), 10);
      expect(ratio).toBeGreaterThan(0.9);
      expect(ratio).toBeLessThan(1.1);
      // Batch norm's kernel and core's variance compute the same unbiased variance.
      expect(Math.abs(viaVariance / measured - 1)).toBeLessThan(1e-4);
      // The biased estimator trades variance for bias and has the smaller error, as (2B−1)/B² says.
      expect(biased).toBeLessThan(measured);
      expect(Math.abs(biased / biasedLaw - 1)).toBeLessThan(0.1);
    }
    // It explodes toward B = 2: 31 times the error of B = 32 by the law.
    expect(rows[0][1] / rows[3][1]).toBeGreaterThan(20);
    // Digit features: the kurtosis law fits, the Gaussian law falls short (κ̄ > 0).
    for (const [b, measured, law, kurtosisLaw, ratio] of digits.rows as number[][]) {
      expect(ratio).toBeGreaterThan(0.8);
      expect(ratio).toBeLessThan(1.2);
      expect(measured / kurtosisLaw).toBeCloseTo(ratio, 6);
      expect((kurtosisLaw - law) * b).toBeGreaterThan(1);
    }
    const lastDigits = digits.rows.at(-1) as number[];
    expect(lastDigits[1] / lastDigits[2]).toBeGreaterThan(1.5);
    expect(result.verdict).toContain('explodes as B → 2');
    expect(context.updates.length).toBeGreaterThan(1);
    expect(memory().liveBuffers).toBe(before);
  });

  it('stops between batches when its signal is aborted, leaving nothing allocated', async () => {
    const before = memory().liveBuffers;
    const controller = new AbortController();
    const context = { ...testContext(), signal: controller.signal, onUpdate: () => controller.abort() };
    await expect(noisyStatistics.run(context, { quick: true })).rejects.toBeInstanceOf(ExperimentAborted);
    expect(memory().liveBuffers).toBe(before);
  });
});
