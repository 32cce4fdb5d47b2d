import { beforeAll, describe, expect, it } from 'vitest';
import { memory } from '@welford/core';
import { batchOfOne } from '../src/experiments/batch_of_one.ts';
import { ExperimentAborted } from '../src/index.ts';
import { expectWellFormed, testContext, useGpu } from './helpers.ts';

describe('batch-of-one', () => {
  beforeAll(useGpu);

  it('shows the constant output β and zero gradient at N = 1, and the layers agreeing where they accept the input', async () => {
    const before = memory().liveBuffers;
    const result = await batchOfOne.run(testContext(), { quick: true, seed: 5 });
    expectWellFormed(result);
    expect(result.holds).toBe(true);
    // Nothing trains; each N is one written-out pass (and one through BatchNorm1d for N ≥ 2), plus BatchNorm2d.
    expect(result.work).toEqual({ steps: 0, samples: 0, measurements: 1 + 2 + 2 + 1 });
    expect(batchOfOne.plan({ quick: true, seed: 5 })).toMatchObject({ steps: result.work.steps, networks: 0 });
    expect(batchOfOne.plan({ quick: false }).steps).toBe(0);
    const [written, layers] = result.tables;
    // Rows: N, spread, max |y − β|, ‖∂L/∂x‖, ‖∂L/∂γ‖, Δy, Δ∂L/∂x.
    expect(written.rows.map((r) => r[0])).toEqual([1, 2, 8]);
    const [one, ...many] = written.rows as (number | null)[][];
    expect(one[1]).toBe(0);
    expect(one[2]).toBeLessThanOrEqual(1e-6);
    expect(one[3]).toBeLessThan(1e-6);
    expect(one[4]).toBeLessThan(1e-6);
    expect(one[5]).toBeNull();
    for (const row of many) {
      // A real spread and a real γ gradient, and the layer's own kernels give the same numbers.
      expect(row[1]).toBeGreaterThan(0.1);
      expect(row[4]).toBeGreaterThan(0.1);
      expect(row[5]).toBeLessThan(1e-4);
      expect(row[6]).toBeLessThan(1e-4);
    }
    const [two, eight] = many;
    // N = 2: both values of a channel become ±1 whatever they are, so the spread is 2·mean(|γ|)
    // and the input gradient only comes through eps; at N = 8 the input gradient is of order 1.
    expect(two[1]).toBeGreaterThan(0.5);
    expect(two[3]).toBeLessThan(1e-2);
    expect(eight[3]).toBeGreaterThan(0.1);
    expect(layers.rows[0][3]).toBe('throws: batchNorm: Expected more than 1 value per channel when training, got input size [1, 6]');
    expect(layers.rows[1].slice(0, 3)).toEqual(['BatchNorm2d', '[1, 6, 5, 5]', 25]);
    expect(layers.rows[1][5]).toBeGreaterThan(0.1);
    expect(result.verdict).toContain('Expected more than 1 value per channel when training');
    // Every buffer it made (layers included) is freed.
    expect(memory().liveBuffers).toBe(before);
  });

  it('stops between sizes when its signal is aborted, leaving nothing allocated', async () => {
    const before = memory().liveBuffers;
    const controller = new AbortController();
    const context = { ...testContext(), signal: controller.signal, onUpdate: () => controller.abort() };
    await expect(batchOfOne.run(context, { quick: true })).rejects.toBeInstanceOf(ExperimentAborted);
    expect(memory().liveBuffers).toBe(before);
  });
});
