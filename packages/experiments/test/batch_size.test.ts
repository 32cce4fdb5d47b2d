import { beforeAll, describe, expect, it } from 'vitest';
import { ExperimentAborted } from '../src/index.ts';
import { batchSize } from '../src/experiments/batch_size.ts';
import { expectWellFormed, testContext, useGpu } from './helpers.ts';

describe('batch-size', () => {
  beforeAll(useGpu);

  it('trains every norm on the same budget at batch 2 and 32 and evaluates each on held-out digits', async () => {
    const context = testContext();
    const result = await batchSize.run(context, { quick: true, seed: 2 });
    expectWellFormed(result);
    // Quick: 512 samples per run, batch 2 and 32, three norms: 3·(256 + 16) steps.
    expect(result.work.steps).toBe(3 * (256 + 16));
    expect(result.work.samples).toBe(6 * 512);
    // 512 test digits: 6 evaluation batches per run, and batch norm again in batches of 2 and 32.
    expect(result.work.measurements).toBe(6 * 6 + 256 + 16);
    const [table] = result.tables;
    expect(table.rows.map((r) => r[0])).toEqual([2, 32]);
    // The plan knew the steps before the run: one network per norm (three columns) and batch size.
    const plan = batchSize.plan({ quick: true, seed: 2 });
    expect(plan.steps).toBe(result.work.steps);
    expect(plan.networks).toBe(3 * table.rows.length);
    expect(batchSize.plan({ quick: false }).steps).toBeGreaterThan(plan.steps);
    for (const row of table.rows) for (const cell of row.slice(1)) expect(cell as number).toBeGreaterThanOrEqual(0), expect(cell as number).toBeLessThanOrEqual(1);
    const [chart] = result.charts;
    expect(chart.series.map((s) => s.label)).toEqual(['batch norm', 'batch norm, batch statistics at test', 'group norm', 'layer norm']);
    for (const s of chart.series) expect(s.points.map(([x]) => x)).toEqual([2, 32]);
    // The verdict quotes the measured numbers.
    const bnAt2 = ((table.rows[0][1] as number) * 100).toFixed(1);
    expect(result.verdict).toContain(`At batch 2 batch norm reaches ${bnAt2} %`);
    expect(context.updates.length).toBeGreaterThan(1);
  });

  it('stops when its signal is aborted, before the next step', async () => {
    const controller = new AbortController();
    const updates: number[] = [];
    const context = { ...testContext(), signal: controller.signal, onUpdate: (r: { work: { steps: number } }) => (updates.push(r.work.steps), controller.abort()) };
    await expect(batchSize.run(context, { quick: true })).rejects.toBeInstanceOf(ExperimentAborted);
    // Steps are counted as they are taken: the first update follows the first step, and no step follows it.
    expect(updates).toEqual([1]);
  });
});
