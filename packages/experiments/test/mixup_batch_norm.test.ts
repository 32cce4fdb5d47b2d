import { beforeAll, describe, expect, it } from 'vitest';
import { expectedShrink } from '../src/experiments/mixup_statistics.ts';
import { mixupBatchNorm } from '../src/experiments/mixup_batch_norm.ts';
import { ExperimentAborted } from '../src/index.ts';
import { expectWellFormed, testContext, useGpu } from './helpers.ts';

describe('mixup', () => {
  beforeAll(useGpu);

  it('k = E[λ² + (1 − λ)²] for λ ~ Beta(α, α)', () => {
    // α = 1: λ uniform, E[λ²] = 1/3, so k = 2/3; α → 0: λ ∈ {0, 1}, k → 1; α → ∞: λ → 1/2, k → 1/2.
    expect(expectedShrink(1)).toBeCloseTo(2 / 3, 12);
    expect(expectedShrink(2)).toBeCloseTo(0.6, 12);
    expect(expectedShrink(1e-9)).toBeCloseTo(1, 6);
    expect(expectedShrink(1e9)).toBeCloseTo(0.5, 6);
  });

  it('measures the shrunken variance under Mixup and the mismatch it leaves in evaluation', async () => {
    const context = testContext();
    const result = await mixupBatchNorm.run(context, { quick: true, seed: 2 });
    expectWellFormed(result);
    expect(result.name).toBe('mixup');
    // Two runs (without and with Mixup at α = 1) of 40 steps of 32.
    expect(result.work.steps).toBe(2 * 40);
    expect(result.work.samples).toBe(2 * 40 * 32);
    expect(result.holds).toBe(true);

    const [ratios, evaluation] = result.tables;
    // Rows: α, k, shared share s, predicted s + k(1 − s), measured, measured/predicted, measured/k.
    const [alpha, k, share, predicted, measured, overPredicted, overK] = ratios.rows[0] as number[];
    expect(alpha).toBe(1);
    expect(k).toBeCloseTo(2 / 3, 6);
    // The digits share a real part of conv1's variance (the mean digit, the padded border) ...
    expect(share).toBeGreaterThan(0.1);
    expect(share).toBeLessThan(0.9);
    expect(predicted).toBeCloseTo(share + k * (1 - share), 6);
    // ... which mixing leaves alone: the measured ratio follows s + k(1 − s), not k.
    expect(Math.abs(overPredicted - 1)).toBeLessThan(0.08);
    expect(overK).toBeGreaterThan(1.05);
    expect(measured).toBeLessThan(0.9);
    // One point per batch for each series of the λ chart.
    const lambdaChart = result.charts[0];
    for (const series of lambdaChart.series) expect(series.points).toHaveLength(64);

    // Rows: training, Var(x̂), predicted, mean(x̂), test acc.
    const [plain, mixed] = evaluation.rows as [string, number, number, number, number][];
    expect(plain[0]).toBe('no Mixup');
    expect(mixed[0]).toBe('Mixup α = 1');
    // The plan knew the steps before the run; one row per network trained.
    const plan = mixupBatchNorm.plan({ quick: true, seed: 2 });
    expect(plan.steps).toBe(result.work.steps);
    expect(plan.networks).toBe(evaluation.rows.length);
    expect(mixupBatchNorm.plan({ quick: false }).steps).toBeGreaterThan(plan.steps);
    expect(Math.abs(plain[1] - 1)).toBeLessThan(0.25);
    expect(mixed[1]).toBeGreaterThan(1.1 * plain[1]);
    expect(mixed[2]).toBeGreaterThan(1.2);
    // Mixing keeps the batch mean, so the running mean still fits.
    expect(Math.abs(plain[3])).toBeLessThan(0.1);
    expect(Math.abs(mixed[3])).toBeLessThan(0.1);

    expect(result.verdict).toContain('do not fit clean inputs');
    expect(context.updates.length).toBeGreaterThan(1);
  });

  it('stops when its signal is aborted', async () => {
    const controller = new AbortController();
    const context = { ...testContext(), signal: controller.signal, onUpdate: () => controller.abort() };
    await expect(mixupBatchNorm.run(context, { quick: true })).rejects.toBeInstanceOf(ExperimentAborted);
  });
});
