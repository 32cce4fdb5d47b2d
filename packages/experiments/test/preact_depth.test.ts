import { memory } from '@welford/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { preactDepth } from '../src/experiments/preact_depth.ts';
import { expectWellFormed, testContext, useGpu } from './helpers.ts';

describe('preact-depth', () => {
  beforeAll(useGpu);

  it('measures first- and last-layer gradients at depths 8 and 20, then trains each network', async () => {
    const context = testContext();
    await context.digits();
    const buffersBefore = memory().liveBuffers;
    const result = await preactDepth.run(context, { quick: true, seed: 2 });
    expectWellFormed(result);
    // Every model (and every gradient and batch) was freed.
    expect(memory().liveBuffers).toBe(buffersBefore);
    // Quick: 2 depths × 2 blocks, each 64 samples at batch 16 (4 steps); one gradient batch and
    // one test batch (64 digits) each.
    expect(result.work).toEqual({ steps: 16, samples: 256, measurements: 8 });

    const [table] = result.tables;
    // The plan knew the steps before the run; one row per network trained.
    const plan = preactDepth.plan({ quick: true, seed: 2 });
    expect(plan.steps).toBe(result.work.steps);
    expect(plan.networks).toBe(table.rows.length);
    expect(preactDepth.plan({ quick: false }).steps).toBeGreaterThan(plan.steps);
    // Rows: depth, block, first-conv grad, last-conv grad, first/last, final loss, test accuracy.
    expect(table.rows.map((r) => [r[0], r[1]])).toEqual([
      [8, 'pre-activation'],
      [8, 'post-activation'],
      [20, 'pre-activation'],
      [20, 'post-activation'],
    ]);
    const rows = table.rows as [number, string, number, number, number, number, number][];
    for (const [, , first, last, ratio, loss, accuracy] of rows) {
      expect(first).toBeGreaterThan(1e-4);
      expect(last).toBeGreaterThan(1e-4);
      expect(ratio).toBeCloseTo(first / last, 10);
      // Four steps from ln 10 ≈ 2.30: a real loss of a 10-way classifier, not a placeholder.
      expect(loss).toBeGreaterThan(1);
      expect(loss).toBeLessThan(3);
      expect(accuracy).toBeGreaterThanOrEqual(0);
      expect(accuracy).toBeLessThanOrEqual(1);
    }
    const [pre8, post8, pre20, post20] = rows.map((r) => r[2]);
    // With batch norm after every convolution and a ReLU after each addition, the first layer's
    // gradient at initialisation grows with depth (2.7–3.3× from 8 to 20 layers over seeds 1–5)...
    expect(post20 / post8).toBeGreaterThan(2);
    // ...and less so with pre-activation blocks (1.6–2.1× over the same seeds).
    expect(pre20 / pre8).toBeLessThan(post20 / post8);
    expect(result.holds).toBe(true);
    expect(result.verdict).toContain('Pre-activation keeps the first-layer gradient steadier');

    const [gradChart, lossChart] = result.charts;
    expect(gradChart.series.map((s) => s.points)).toEqual([
      [[8, pre8], [20, pre20]],
      [[8, post8], [20, post20]],
    ]);
    expect(lossChart.series.map((s) => s.points.length)).toEqual([2, 2]);
  });
});
