import { assign, fromArray, manualSeed, randn, SGD, tidy, type Tensor } from '@welford/core';
import { BatchNorm2d, ReLU, Sequential } from '@welford/layers';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { attachProbes, memorySink, type StatsRecord } from '../src/index.ts';
import { captureNext, expectClose, hostChannelStats, labelsOf, Net, trainStep, useGpu } from './helpers.ts';

beforeAll(async () => {
  await useGpu();
});

// Models and inputs of a test, disposed after it.
const owned: { dispose(): void }[] = [];
afterEach(() => {
  for (const o of owned.splice(0)) o.dispose();
});

function setup(seed = 1): { model: Net; x: Tensor; labels: Tensor; opt: SGD } {
  manualSeed(seed);
  const model = new Net();
  const x = randn([3, 2, 7, 7]);
  const labels = labelsOf(3);
  owned.push(model, x, labels);
  return { model, x, labels, opt: new SGD(model.parameters(), { lr: 0.1 }) };
}

/** The one record a sink got; fails unless there is exactly one. */
function only(records: StatsRecord[]): StatsRecord {
  expect(records.length).toBe(1);
  return records[0];
}

describe('layer statistics', () => {
  it('per-channel input and output statistics equal host statistics of the read-back tensors', async () => {
    const { model, x, labels, opt } = setup();
    const sink = memorySink();
    const probes = attachProbes(model, { every: 1, sinks: [sink] });
    const seen = { bn1: captureNext(model.bn1), relu1: captureNext(model.relu1), gn: captureNext(model.gn), relu2: captureNext(model.relu2) };
    trainStep(model, opt, x, labels, probes);
    await probes.flush();
    const r = only(sink.history);
    expect(r.step).toBe(0);
    expect(Object.keys(r.layers)).toEqual(['bn1', 'relu1', 'gn', 'relu2']);
    expect([r.layers.bn1.order, r.layers.relu1.order, r.layers.gn.order, r.layers.relu2.order]).toEqual([0, 1, 2, 3]);
    for (const name of ['bn1', 'gn'] as const) {
      const s = await seen[name];
      const want = { input: hostChannelStats(await s.input, s.shape), output: hostChannelStats(await s.output, s.outputShape) };
      expectClose(r.layers[name].input!.mean, want.input.mean, 1e-5, 1e-4, `${name} input mean`);
      expectClose(r.layers[name].input!.var, want.input.var, 1e-5, 1e-4, `${name} input var`);
      expectClose(r.layers[name].output.mean, want.output.mean, 1e-5, 1e-4, `${name} output mean`);
      expectClose(r.layers[name].output.var, want.output.var, 1e-5, 1e-4, `${name} output var`);
    }
    // bn1 normalizes with the batch statistics: its output has mean 0 and variance ≈ 1 per channel.
    expectClose(r.layers.bn1.output.mean, [0, 0, 0, 0], 1e-5, 0, 'bn1 output mean');
    // The ReLU modules report their output's zeros, mean and std.
    for (const name of ['relu1', 'relu2'] as const) {
      const s = await seen[name];
      const y = await s.output;
      const zeros = y.filter((v) => v === 0).length / y.length;
      const mean = y.reduce((a, v) => a + v, 0) / y.length;
      const std = Math.sqrt(y.reduce((a, v) => a + (v - mean) ** 2, 0) / y.length);
      const a = r.layers[name].activation!;
      expect(zeros).toBeGreaterThan(0.2);
      expectClose([a.deadFraction, a.mean, a.std], [zeros, mean, std], 1e-5, 1e-4, `${name} activation`);
    }
    // A norm's output is pre-ReLU: negative values, and no activation statistics of its own.
    for (const name of ['bn1', 'gn'] as const) {
      expect((await (await seen[name]).output).some((v) => v < 0)).toBe(true);
      expect(r.layers[name].activation).toBeUndefined();
    }
    expect(r.layers.relu1.input).toBeUndefined();
    expect(r.nonFinite).toEqual([]);
  });

  it("running statistics, scale and shift are the layer's own at the end of the step", async () => {
    const { model, x, labels, opt } = setup(2);
    const sink = memorySink();
    const probes = attachProbes(model, { every: 1, sinks: [sink] });
    trainStep(model, opt, x, labels, probes);
    await probes.flush();
    const r = only(sink.history).layers;
    expect(r.bn1.running!.mean).toEqual(Array.from(await model.bn1.runningMean!.toArray()));
    expect(r.bn1.running!.var).toEqual(Array.from(await model.bn1.runningVar!.toArray()));
    // The optimizer step changed them: the record has the values after it.
    expect(r.bn1.weight).toEqual(Array.from(await model.bn1.weight!.toArray()));
    expect(r.bn1.bias).toEqual(Array.from(await model.bn1.bias!.toArray()));
    expect(r.bn1.bias!.some((v) => v !== 0)).toBe(true);
    expect(r.gn.weight).toEqual(Array.from(await model.gn.weight!.toArray()));
    expect(r.gn.bias).toEqual(Array.from(await model.gn.bias!.toArray()));
    // GroupNorm keeps no running statistics.
    expect(r.gn.running).toBeUndefined();
  });

  it('dead fraction of known inputs: a ReLU module, and the ReLU after a batch norm with shifts ±10', async () => {
    const relu = new Sequential(new ReLU());
    const bn = new BatchNorm2d(4);
    const bnRelu = new Sequential(bn, new ReLU());
    owned.push(relu, bnRelu);
    // With 12 values per channel every |x̂| <= sqrt(11) < 10: β = −10 switches a channel off, β = 10 on.
    assign(bn.bias!, Float32Array.of(-10, -10, 10, 10));
    const sink = memorySink();
    const probes = [attachProbes(relu, { every: 1, sinks: [sink] }), attachProbes(bnRelu, { every: 1, sinks: [sink] })];
    tidy(() => {
      relu.call(fromArray([-1, 0, 2, -3, 5, 0, 1, -2], [2, 4]));
      bnRelu.call(randn([3, 4, 2, 2]));
    });
    for (const p of probes) {
      p.step();
      await p.flush();
    }
    expect(sink.history.length).toBe(2);
    // Zeros: −1, 0, −3, 0, −2 of 8; the output [0, 0, 2, 0, 5, 0, 1, 0] has mean 1 and variance 30/8 − 1.
    const a = sink.history[0].layers['0'].activation!;
    expectClose([a.deadFraction, a.mean, a.std], [5 / 8, 1, Math.sqrt(30 / 8 - 1)], 1e-6, 1e-6, 'ReLU activation');
    // The ReLU after the norm sees half the channels switched off; the norm itself reports none.
    expect(sink.history[1].layers['1'].activation!.deadFraction).toBe(0.5);
    expect(sink.history[1].layers['0'].activation).toBeUndefined();
  });
});
