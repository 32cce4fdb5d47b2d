import { beforeAll, describe, expect, it } from 'vitest';
import { ExperimentAborted, findExperiment } from '../src/index.ts';
import { expectWellFormed, testContext, useGpu } from './helpers.ts';

describe('running-averages', () => {
  beforeAll(useGpu);

  it('measures the EMA bias against m(1-(1-μ)^t) and removes it with the correction', async () => {
    const context = testContext();
    const result = await findExperiment('running-averages').run(context, { quick: true, seed: 3 });
    expectWellFormed(result);
    expect(result.holds).toBe(true);
    const [table] = result.tables;
    // Rows: t, EMA, predicted, corrected, PyTorch var, corrected var.
    const first = table.rows[0] as number[];
    expect(first[0]).toBe(1);
    // One batch in, the EMA holds a tenth of the mean (momentum 0.1) and the correction the whole.
    expect(first[1]).toBeCloseTo(0.3, 1);
    expect(first[3]).toBeCloseTo(3, 1);
    // PyTorch's variance starts at 1: after one batch 0.9 + 0.1·4 = 1.3.
    expect(first[4]).toBeCloseTo(1.3, 1);
    const last = table.rows.at(-1) as number[];
    expect(last[1]).toBeCloseTo(last[2], 1);
    expect(result.work.measurements).toBeGreaterThan(0);
    // Nothing trains, and the plan said so.
    const experiment = findExperiment('running-averages');
    expect(result.work.steps).toBe(0);
    expect(experiment.plan({ quick: true, seed: 3 })).toMatchObject({ steps: result.work.steps, networks: 0 });
    expect(experiment.plan({ quick: false }).steps).toBe(0);
    expect(result.verdict).toContain('correction removes it');
    // Live updates arrived while it ran, each a growing prefix of the final result.
    expect(context.updates.length).toBeGreaterThan(1);
    expect(context.updates.at(-1)!.done).toBe(true);
  });

  it('stops between steps when its signal is aborted', async () => {
    const controller = new AbortController();
    const context = { ...testContext(), signal: controller.signal, onUpdate: () => controller.abort() };
    await expect(findExperiment('running-averages').run(context, { quick: true })).rejects.toBeInstanceOf(ExperimentAborted);
  });

  it('names the experiments there are when asked for one that is not', () => {
    expect(() => findExperiment('batchsize')).toThrow(/no experiment named "batchsize"; there are: .*running-averages/);
  });
});
