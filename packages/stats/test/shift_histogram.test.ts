import { add, manualSeed, randn, type Tensor } from '@welford/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { attachProbes, covariateShift, memorySink, type Probes } from '../src/index.ts';
import { captureNext, discard, Net, useGpu } from './helpers.ts';

beforeAll(async () => {
  await useGpu();
});

/** One forward of x (no optimizer step, so the weights stay), closing the probes' step. */
function forward(model: Net, probes: Probes, x: Tensor): void {
  discard(() => model.call(x));
  probes.step();
}

describe('covariate shift', () => {
  it('follows its formula: mean over channels of W2 between Gaussians over the previous sqrt(σ² + ε)', () => {
    // Channel 0: μ 0 → 3, σ 1 → 2: sqrt(9 + 1) / sqrt(1 + ε). Channel 1 did not move.
    const shift = covariateShift({ mean: [0, 5], var: [1, 4] }, { mean: [3, 5], var: [4, 4] }, 1e-5);
    expect(shift).toBeCloseTo((Math.sqrt(10) / Math.sqrt(1 + 1e-5) + 0) / 2, 12);
    expect(covariateShift({ mean: [1], var: [1] }, { mean: [1, 2], var: [1, 1] }, 1e-5)).toBeNull();
  });

  it('is null on the first read, zero for the same input twice, and positive after the input shifts', async () => {
    manualSeed(7);
    const model = new Net();
    const x = randn([3, 2, 7, 7]);
    const shifted = add(x, 3);
    const sink = memorySink();
    const probes = attachProbes(model, { every: 1, sinks: [sink] });
    forward(model, probes, x);
    forward(model, probes, x);
    forward(model, probes, shifted);
    await probes.flush();
    const [first, same, moved] = sink.history.map((r) => r.layers);
    expect(first.bn1.covariateShift).toBeNull();
    expect(first.gn.covariateShift).toBeNull();
    // The same input twice: zero up to float32 rounding (a GPU may merge partial sums in a
    // different order each time: subgroup slots are claimed atomically).
    expect(same.bn1.covariateShift!).toBeLessThan(1e-6);
    expect(same.gn.covariateShift!).toBeLessThan(1e-6);
    expect(moved.bn1.covariateShift!).toBeGreaterThan(0.1);
    // The ReLU modules have no input statistics and no shift.
    expect(moved.relu1.covariateShift).toBeUndefined();
    expect(moved.relu2.covariateShift).toBeUndefined();
    probes.detach();
    for (const t of [x, shifted]) t.dispose();
    model.dispose();
  });
});

describe('histograms', () => {
  it('count the in-range elements of the chosen layers, with fixed ranges or the range of the previous read', async () => {
    manualSeed(8);
    const model = new Net();
    const x = randn([3, 2, 7, 7]);
    const sink = memorySink();
    const probes = attachProbes(model, { every: 1, sinks: [sink], histograms: ['relu1', { layer: 'conv2', bins: 7, range: [-0.5, 0.5] }] });
    const seen = [captureNext(model.conv2), captureNext(model.relu1)];
    forward(model, probes, x);
    await probes.flush();
    const [conv2, relu1] = await Promise.all(seen);
    const y = await conv2.output;
    const first = sink.history[0].histograms;
    // A fixed range counts from the first read; its counts sum to the elements inside it.
    expect(first.conv2.counts!.length).toBe(7);
    expect(first.conv2.total).toBe(y.length);
    expect(first.conv2.counted).toBe(y.filter((v) => v >= -0.5 && v <= 0.5).length);
    expect(first.conv2.counted!).toBeLessThan(y.length);
    // Without a range the first read only finds one.
    const r = await relu1.output;
    expect(first.relu1.counts).toBeNull();
    expect(first.relu1.observedMin).toBe(0);
    expect(first.relu1.observedMax).toBe(r.reduce((m, v) => Math.max(m, v), -Infinity));

    // The next read counts over the range the first one observed.
    const next = captureNext(model.relu1);
    forward(model, probes, x);
    await probes.flush();
    const second = sink.history[1].histograms.relu1;
    expect([second.min, second.max]).toEqual([first.relu1.observedMin, first.relu1.observedMax]);
    expect(second.bins).toBe(64);
    const r2 = await (await next).output;
    expect(second.counted).toBe(r2.filter((v) => v >= second.min! && v <= second.max!).length);
    expect(second.counted).toBe(r2.length);
    probes.detach();
    x.dispose();
    model.dispose();
  });

  it('rejects unknown layers and bad options', () => {
    const model = new Net();
    expect(() => attachProbes(model, { histograms: ['conv9'] })).toThrow(/attachProbes: no layer named "conv9" for a histogram \(layers: conv1, bn1, relu1, conv2, gn, relu2, fc\)/);
    expect(() => attachProbes(model, { histograms: [{ layer: 'fc', bins: 0 }] })).toThrow('attachProbes: histogram of "fc": bins must be a positive integer, got 0');
    expect(() => attachProbes(model, { histograms: [{ layer: 'fc', range: [1, 1] }] })).toThrow(/range must be \[min, max\] with finite min < max, got \[1,1\]/);
    expect(() => attachProbes(model, { histograms: ['fc', 'fc'] })).toThrow('attachProbes: histogram of "fc" given twice');
    model.dispose();
  });
});
