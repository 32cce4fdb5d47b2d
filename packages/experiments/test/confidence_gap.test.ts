import { noGrad } from '@welford/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { confidenceGap } from '../src/experiments/confidence_gap.ts';
import { ResultBuilder } from '../src/result_builder.ts';
import { evalBatches, sampleOf } from '../src/training/digits.ts';
import { digitCnn } from '../src/training/models.ts';
import { predictionsOn } from '../src/training/predictions.ts';
import { expectWellFormed, testContext, useGpu } from './helpers.ts';

/** Accuracy and mean largest softmax probability of logits [N, 10], computed on the host in float64. */
function hostPredictions(logits: Float32Array, labels: Float32Array): { correct: number; confidence: number } {
  let correct = 0;
  let confidence = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = Array.from(logits.subarray(i * 10, i * 10 + 10));
    const top = Math.max(...row);
    const z = row.reduce((s, v) => s + Math.exp(v - top), 0);
    confidence += 1 / z;
    if (row.indexOf(top) === labels[i]) correct++;
  }
  return { correct, confidence };
}

describe('confidence-gap', () => {
  beforeAll(useGpu);

  it('measures accuracy and confidence as the host computes them from the logits, in both modes', async () => {
    const context = testContext();
    const digits = sampleOf((await context.digits()).test, 30, 5);
    const builder = new ResultBuilder({ name: 'p', title: 'p', claim: 'p' }, {}, context);
    const model = digitCnn({ norm: 'batch', seed: 4 });
    try {
      for (const batchStatistics of [false, true]) {
        // 30 digits in batches of 7: the last batch has 2.
        const measured = await predictionsOn(builder, model, digits, { batchSize: 7, batchStatistics });
        if (batchStatistics) model.train();
        else model.eval();
        let correct = 0;
        let confidence = 0;
        for (const batch of evalBatches(digits, 7)) {
          const logits = noGrad(() => model.call(batch.x));
          const host = hostPredictions(await logits.toArray(), await batch.y.toArray());
          correct += host.correct;
          confidence += host.confidence;
          for (const t of [logits, batch.x, batch.y]) t.dispose();
        }
        expect(measured.samples).toBe(30);
        expect(measured.accuracy).toBeCloseTo(correct / 30, 6);
        expect(measured.confidence).toBeCloseTo(confidence / 30, 4);
        expect(measured.confidence).toBeGreaterThan(0.1);
      }
      // The model's mode is restored after measuring in training mode.
      model.eval();
      await predictionsOn(builder, model, digits, { batchStatistics: true });
      expect(model.training).toBe(false);
    } finally {
      model.dispose();
    }
  });

  it('trains batch norm and layer norm on a small subset at batch 8 and 64 and measures the confidence gap', async () => {
    const context = testContext();
    const result = await confidenceGap.run(context, { quick: true, seed: 1 });
    expectWellFormed(result);
    // Quick: 200 digits × 8 epochs = 1600 samples per run: 200 steps at batch 8, 25 at batch 64; two norms.
    expect(result.work.steps).toBe(2 * (200 + 25));
    expect(result.work.samples).toBe(4 * 1600);
    // Each run: 200 training and 200 held-out digits in batches of 100.
    expect(result.work.measurements).toBe(4 * 4);
    const [table] = result.tables;
    expect(table.rows.map((r) => [r[0], r[1]])).toEqual([
      ['batch norm', 8],
      ['layer norm', 8],
      ['batch norm', 64],
      ['layer norm', 64],
    ]);
    // The plan knew the steps before the run; one row per network trained.
    const plan = confidenceGap.plan({ quick: true, seed: 1 });
    expect(plan.steps).toBe(result.work.steps);
    expect(plan.networks).toBe(table.rows.length);
    expect(confidenceGap.plan({ quick: false }).steps).toBeGreaterThan(plan.steps);
    for (const row of table.rows) {
      const [trainConf, testConf, gap, trainAcc, testAcc] = row.slice(2) as number[];
      for (const conf of [trainConf, testConf]) expect(conf).toBeGreaterThanOrEqual(0.1), expect(conf).toBeLessThanOrEqual(1);
      for (const acc of [trainAcc, testAcc]) expect(acc).toBeGreaterThanOrEqual(0), expect(acc).toBeLessThanOrEqual(1);
      expect(gap).toBeCloseTo(trainConf - testConf, 9);
    }
    const [chart] = result.charts;
    expect(chart.series.map((s) => s.label)).toEqual(['batch norm', 'layer norm']);
    for (const s of chart.series) expect(s.points.map(([x]) => x)).toEqual([8, 64]);
    // holds is exactly "batch norm's gap is positive and larger than layer norm's at both batch sizes".
    const gaps = table.rows.map((r) => r[4] as number);
    expect(result.holds).toBe(gaps[0] > Math.max(gaps[1], 0) && gaps[2] > Math.max(gaps[3], 0));
    expect(result.verdict).toContain(`at batch 8 batch norm's gap is ${gaps[0].toFixed(3)}`);
    expect(context.updates.length).toBeGreaterThan(1);
  });
});
