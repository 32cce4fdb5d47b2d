import { beforeAll, describe, expect, it } from 'vitest';
import { ExperimentAborted } from '../src/index.ts';
import { trainTestMismatch } from '../src/experiments/train_test_mismatch.ts';
import { expectWellFormed, testContext, useGpu } from './helpers.ts';

describe('train-test-mismatch', () => {
  beforeAll(useGpu);

  it('collapses on shifted digits with stored statistics, recovers with re-estimated ones, and checks the output-mean formula', async () => {
    const gpu = await useGpu();
    const liveBefore = gpu.memory().liveBuffers;
    const context = testContext();
    const result = await trainTestMismatch.run(context, { quick: true, seed: 3 });
    expectWellFormed(result);
    // Every model, optimizer state and batch is freed.
    expect(gpu.memory().liveBuffers).toBe(liveBefore);
    // 2048 samples at batch 16 (128 steps), then 800 at batch 4 (200 steps) for each of two norms.
    expect(result.work.steps).toBe(128 + 2 * 200);
    expect(result.work.samples).toBe(2048 + 2 * 800);
    // Passes of 100 over 500 test digits: 6 evaluations; 2 formula batches, 1 few-shot pass, 40
    // precise passes of 50; per norm one evaluation and 125 training-mode batches of 4.
    expect(result.work.measurements).toBe(6 * 5 + 2 + 1 + 40 + 2 * (5 + 125));

    const [accuracy, formula, renorm] = result.tables;
    // Rows: setting, shifted samples used, accuracy clean, accuracy shifted.
    const [stored, fewShot, precise] = accuracy.rows as [string, number, number, number][];
    expect(accuracy.rows).toHaveLength(3);
    expect(stored[2]).toBeGreaterThan(0.5);
    expect(stored[2] - stored[3]).toBeGreaterThan(0.3);
    expect(fewShot[1]).toBe(32);
    expect(fewShot[3] - stored[3]).toBeGreaterThan(0.25);
    expect(precise[3]).toBeGreaterThan(stored[3] + 0.25);
    // Statistics re-estimated for the shifted digits no longer fit the clean ones.
    expect(fewShot[2]).toBeLessThan(stored[2] - 0.2);

    // Rows: digits, channel, (m − μ)/σ, γ, β, predicted, measured, absolute difference; 8 channels per batch.
    const rows = formula.rows as [string, number, number, number, number, number, number, number][];
    expect(rows).toHaveLength(16);
    const clean = rows.filter((r) => r[0] === 'clean');
    const shifted = rows.filter((r) => r[0] === 'shifted');
    // Clean digits sit where the stored mean is; shifted ones move the output mean well away from β.
    for (const r of clean) expect(Math.abs(r[2])).toBeLessThan(0.05);
    expect(Math.max(...shifted.map((r) => Math.abs(r[2])))).toBeGreaterThan(0.5);
    expect(Math.max(...shifted.map((r) => Math.abs(r[5] - r[4])))).toBeGreaterThan(0.5);
    for (const [, , shift, gamma, beta, predicted, measured, difference] of rows) {
      expect(predicted).toBeCloseTo(gamma * shift + beta, 9);
      expect(difference).toBeCloseTo(Math.abs(measured - predicted), 12);
      // The device's mean of the layer's output agrees with the formula to float32 rounding.
      expect(difference).toBeLessThan(1e-4 * Math.max(1, Math.abs(predicted)));
    }

    // Rows: norm, batch, steps, loss, eval accuracy, train-mode accuracy, train − eval.
    const [bn, br] = renorm.rows as [string, number, number, number, number, number, number][];
    expect([bn[0], br[0]]).toEqual(['batch norm', 'batch renorm']);
    expect([bn[2], br[2]]).toEqual([200, 200]);
    // The plan knew the steps before the run: the network that meets the shift and one per row here.
    const plan = trainTestMismatch.plan({ quick: true, seed: 3 });
    expect(plan.steps).toBe(result.work.steps);
    expect(plan.networks).toBe(1 + renorm.rows.length);
    expect(trainTestMismatch.plan({ quick: false }).steps).toBeGreaterThan(plan.steps);
    for (const r of [bn, br]) expect(r[4]).toBeGreaterThan(0.2);
    // Unclipped, renorm's training output is its evaluation output: the same predictions.
    expect(Math.abs(br[6])).toBeLessThan(0.01);
    expect(Math.abs(bn[6])).toBeGreaterThanOrEqual(Math.abs(br[6]));

    const [shots] = result.charts;
    const storedLine = shots.series.find((s) => s.label === 'stored statistics')!;
    expect(storedLine.predicted).toBe(true);
    expect(storedLine.points.map(([, y]) => y)).toEqual([stored[3], stored[3]]);
    expect(shots.series.find((s) => s.label.startsWith('few-shot'))!.points).toEqual([[32, fewShot[3]]]);
    expect(result.verdict).toContain(`${(stored[3] * 100).toFixed(1)} %`);
    expect(context.updates.length).toBeGreaterThan(1);
  });

  it('stops during training when its signal is aborted, leaving nothing allocated', async () => {
    const gpu = await useGpu();
    const liveBefore = gpu.memory().liveBuffers;
    const controller = new AbortController();
    const context = { ...testContext(), signal: controller.signal };
    // The timer fires at the first turn of the event loop: before the first training step or between steps.
    setTimeout(() => controller.abort(), 0);
    await expect(trainTestMismatch.run(context, { quick: true })).rejects.toBeInstanceOf(ExperimentAborted);
    expect(gpu.memory().liveBuffers).toBe(liveBefore);
  });
});
