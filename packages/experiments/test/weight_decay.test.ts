import { beforeAll, describe, expect, it } from 'vitest';
import { weightDecay } from '../src/experiments/weight_decay.ts';
import { ExperimentAborted } from '../src/index.ts';
import { expectWellFormed, testContext, useGpu } from './helpers.ts';

describe('weight-decay', () => {
  beforeAll(useGpu);

  it('measures scale invariance, the shrinking ‖W‖ under decay, and Adam + L2 against AdamW', async () => {
    const context = testContext();
    const result = await weightDecay.run(context, { quick: true, seed: 2 });
    expectWellFormed(result);
    expect(result.name).toBe('weight-decay');
    // Four runs (SGD without and with decay, Adam + L2, AdamW) of 40 steps of 32.
    expect(result.work.steps).toBe(4 * 40);
    expect(result.work.samples).toBe(4 * 40 * 32);
    expect(result.holds).toBe(true);

    const [scale, norms, end] = result.tables;
    // (a) Rows: c, max |Δ| (ε → 0), relative, max |Δ| (ε = 1e-5), predicted from ε, ‖grad‖, ‖grad‖·c, cos.
    const rows = scale.rows as number[][];
    expect(rows.map((r) => r[0])).toEqual([0.1, 1, 10, 100]);
    const atOne = rows[1];
    for (const [c, , relative, withEps, predicted, , gradTimesC, cosine] of rows) {
      expect(relative, `c = ${c}`).toBeLessThan(1e-4);
      // The gradient scales as 1/c.
      expect(Math.abs(gradTimesC / atOne[6] - 1)).toBeLessThan(1e-3);
      expect(Math.abs(cosine)).toBeLessThan(1e-4);
      // The default ε moves the output by what ε predicts (0 at c = 1, the reference).
      if (c !== 1) expect(Math.abs(withEps / predicted - 1), `c = ${c}`).toBeLessThan(0.1);
    }
    // 1000-fold between c = 0.1 and c = 100.
    expect(rows[0][5] / rows[3][5]).toBeCloseTo(1000, 0);
    // At c = 0.1, c²σ² is small enough against ε = 1e-5 that the output moves visibly.
    expect(rows[0][3]).toBeGreaterThan(100 * rows[0][1]);

    // (b) Rows: step, ‖W‖ without, ‖W‖ with decay, lr/‖W‖² without, with. Same start, apart at the end.
    const first = norms.rows[0] as number[];
    const last = norms.rows.at(-1) as number[];
    expect(first[0]).toBe(0);
    expect(first[1]).toBeCloseTo(first[2], 6);
    expect(last[0]).toBe(40);
    expect(last[2]).toBeLessThan(last[1]);
    expect(last[2]).toBeLessThan(first[2]);
    expect(last[4]).toBeGreaterThan(first[4]);
    // Without decay the gradient, orthogonal to W, only lengthens it.
    expect(last[1]).toBeGreaterThan(first[1]);

    // (b, c) Rows: optimizer, decay, weight decay, lr, ‖W‖ start, ‖W‖ end, test acc.
    expect(end.rows.map((r) => r[0])).toEqual(['SGD, no decay', 'SGD, L2 0.02', 'Adam + L2', 'AdamW']);
    // The plan knew the steps before the run; one end row per network trained.
    const plan = weightDecay.plan({ quick: true, seed: 2 });
    expect(plan.steps).toBe(result.work.steps);
    expect(plan.networks).toBe(end.rows.length);
    expect(weightDecay.plan({ quick: false }).steps).toBeGreaterThan(plan.steps);
    const [adamL2, adamW] = end.rows.slice(2) as [string, string, number, number, number, number, number][];
    expect(adamL2[2]).toBe(adamW[2]);
    // With Adam the L2 term is divided by the gradients' RMS: the same nominal decay pulls far harder.
    expect(adamL2[5]).toBeLessThan(0.8 * adamW[5]);

    expect(result.verdict).toContain('decay keeps ‖W‖ small');
    expect(context.updates.length).toBeGreaterThan(1);
  });

  it('stops when its signal is aborted', async () => {
    const controller = new AbortController();
    const context = { ...testContext(), signal: controller.signal, onUpdate: () => controller.abort() };
    await expect(weightDecay.run(context, { quick: true })).rejects.toBeInstanceOf(ExperimentAborted);
  });
});
