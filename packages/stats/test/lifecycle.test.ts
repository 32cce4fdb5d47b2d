import { fromArray, manualSeed, memory, randn, SGD, type Tensor, type WebGpuBackend } from '@welford/core';
import type { AnyModule } from '@welford/layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { attachProbes, memorySink } from '../src/index.ts';
import { discard, labelsOf, Net, trainStep, useGpu } from './helpers.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await useGpu();
});

function setup(seed: number): { model: Net; x: Tensor; labels: Tensor; opt: SGD; dispose(): void } {
  manualSeed(seed);
  const model = new Net();
  const x = randn([2, 2, 6, 5]);
  const labels = labelsOf(2);
  return {
    model,
    x,
    labels,
    opt: new SGD(model.parameters(), { lr: 0.05 }),
    dispose: () => {
      x.dispose();
      labels.dispose();
      model.dispose();
    },
  };
}

/** GPU dispatches a function records. */
function dispatches(fn: () => void): number {
  const before = gpu.counters.dispatches;
  fn();
  return gpu.counters.dispatches - before;
}

/** Forward hooks a module holds (private to Module; read here to prove that detach leaves none). */
function hookCount(model: AnyModule): number {
  return model.modules().reduce((n, m) => n + (m as unknown as { forwardHooks: Set<unknown> }).forwardHooks.size, 0);
}

describe('probe lifecycle', () => {
  it('records only every K-th step, numbered from startStep, in step order', async () => {
    const t = setup(9);
    const sink = memorySink();
    const probes = attachProbes(t.model, { every: 3, startStep: 1, sinks: [sink] });
    const reads: boolean[] = [];
    for (let i = 0; i < 7; i++) {
      reads.push(probes.isReadStep);
      trainStep(t.model, t.opt, t.x, t.labels, probes);
    }
    await probes.flush();
    expect(reads).toEqual([false, false, true, false, false, true, false]);
    expect(probes.stepIndex).toBe(8);
    expect(sink.history.map((r) => r.step)).toEqual([3, 6]);
    probes.detach();
    t.dispose();
  });

  it('a step that is not a read step records no extra dispatch; a read step does', async () => {
    const t = setup(10);
    const step = (probes?: ReturnType<typeof attachProbes>) => dispatches(() => trainStep(t.model, t.opt, t.x, t.labels, probes));
    step(); // first step: pipelines and pools settle
    const plain = step();
    expect(step()).toBe(plain);
    const probes = attachProbes(t.model, { every: 2, histograms: ['relu1'] });
    const read = step(probes);
    const notRead = step(probes);
    expect(read).toBeGreaterThan(plain);
    expect(notRead).toBe(plain);
    await probes.flush();
    probes.detach();
    t.dispose();
  });

  it('read steps leave no tensors behind: live buffers stay flat', async () => {
    const t = setup(16);
    const probes = attachProbes(t.model, { every: 1, histograms: ['relu1', { layer: 'gn', range: [0, 2] }] });
    for (let i = 0; i < 2; i++) trainStep(t.model, t.opt, t.x, t.labels, probes);
    await probes.flush();
    const live = memory().liveBuffers;
    for (let i = 0; i < 4; i++) trainStep(t.model, t.opt, t.x, t.labels, probes);
    await probes.flush();
    expect(memory().liveBuffers).toBe(live);
    // Detaching in the middle of a read step frees what it had gathered.
    discard(() => t.model.call(t.x));
    probes.beforeOptimizerStep();
    probes.detach();
    expect(memory().liveBuffers).toBe(live);
    t.dispose();
  });

  it('detach removes every hook; later steps do nothing and the records already started still arrive', async () => {
    const t = setup(11);
    const base = hookCount(t.model);
    const sink = memorySink();
    const probes = attachProbes(t.model, { every: 1, histograms: ['conv1', 'gn'], sinks: [sink] });
    // One hook per norm layer and ReLU (bn1, relu1, gn, relu2), one per histogram (conv1, gn).
    expect(hookCount(t.model)).toBe(base + 6);
    trainStep(t.model, t.opt, t.x, t.labels, probes);
    probes.detach();
    expect(hookCount(t.model)).toBe(base);
    expect(probes.isReadStep).toBe(false);
    const plain = dispatches(() => trainStep(t.model, t.opt, t.x, t.labels));
    expect(dispatches(() => trainStep(t.model, t.opt, t.x, t.labels, probes))).toBe(plain);
    await probes.flush();
    expect(sink.history.map((r) => r.step)).toEqual([0]);
    t.dispose();
  });

  it('NaN in the input marks the first layer as the first non-finite one', async () => {
    const t = setup(12);
    const sink = memorySink();
    const probes = attachProbes(t.model, { every: 1, sinks: [sink] });
    const data = new Float32Array(t.x.size).fill(0.5);
    data[17] = Number.NaN;
    const x = fromArray(data, t.x.shape);
    discard(() => t.model.call(x));
    probes.step();
    await probes.flush();
    const r = sink.history[0];
    expect(r.nonFinite[0]).toBe('bn1');
    expect(r.layers.bn1.input!.mean.some(Number.isNaN)).toBe(true);
    expect(r.layers.bn1.output.mean.some(Number.isNaN)).toBe(true);
    // relu keeps the NaN, as in PyTorch, so it reaches the layers after bn1 too, in forward order.
    expect(r.nonFinite.length).toBeGreaterThan(1);
    expect(r.nonFinite.indexOf('relu1')).toBeGreaterThan(0);
    x.dispose();
    probes.detach();
    t.dispose();
  });

  it('probes training forwards only (by default), and a layer called twice in a step on its first call', async () => {
    const t = setup(13);
    const sink = memorySink();
    const probes = attachProbes(t.model, { every: 1, sinks: [sink] });
    t.model.eval();
    discard(() => t.model.call(t.x));
    t.model.train();
    discard(() => t.model.call(t.x));
    discard(() => t.model.bn1.call(t.model.conv1.call(t.x)));
    probes.step();
    probes.step(); // nothing ran: a record with parameters only
    await probes.flush();
    expect(sink.history.length).toBe(2);
    expect(Object.keys(sink.history[0].layers)).toEqual(['bn1', 'relu1', 'gn', 'relu2']);
    expect(Object.keys(sink.history[1].layers)).toEqual([]);
    probes.detach();
    t.dispose();
  });

  it('rejects bad options with messages naming them', () => {
    const model = new Net();
    expect(() => attachProbes(model, { every: 0 })).toThrow('attachProbes: every must be an integer >= 1, got 0');
    expect(() => attachProbes(model, { every: 2.5 })).toThrow('attachProbes: every must be an integer >= 1, got 2.5');
    expect(() => attachProbes(model, { startStep: -1 })).toThrow('attachProbes: startStep must be an integer >= 0, got -1');
    model.dispose();
  });

  it('flush rejects with the error a sink raised, once', async () => {
    const t = setup(14);
    const probes = attachProbes(t.model, { every: 1, sinks: [{ write: () => Promise.reject(new Error('disk full')) }] });
    trainStep(t.model, t.opt, t.x, t.labels, probes);
    await expect(probes.flush()).rejects.toThrow('disk full');
    await expect(probes.flush()).resolves.toBeUndefined();
    probes.detach();
    t.dispose();
  });
});
