import { manualSeed, randn, SGD, tidy, crossEntropy, type Tensor } from '@welford/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { attachProbes, memorySink } from '../src/index.ts';
import { expectClose, hostNorm, labelsOf, Net, trainStep, useGpu } from './helpers.ts';

beforeAll(async () => {
  await useGpu();
});

describe('parameter statistics', () => {
  it('gradient norms, weight norms and update ratios equal host computations around an SGD step', async () => {
    manualSeed(4);
    const model = new Net();
    const x = randn([3, 2, 7, 7]);
    const labels = labelsOf(3);
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    const sink = memorySink();
    const probes = attachProbes(model, { every: 1, sinks: [sink] });
    const params = model.namedParameters();

    tidy(() => {
      crossEntropy(model.call(x), labels).backward();
    });
    const grads = await Promise.all(params.map(([, p]) => p.grad!.toArray()));
    const before = await Promise.all(params.map(([, p]) => p.toArray()));
    probes.beforeOptimizerStep();
    opt.step();
    probes.afterOptimizerStep();
    probes.step();
    const after = await Promise.all(params.map(([, p]) => p.toArray()));
    await probes.flush();

    const r = sink.history[0];
    expect(Object.keys(r.params)).toEqual(params.map(([n]) => n));
    params.forEach(([name], i) => {
      const p = r.params[name];
      const update = after[i].map((v, k) => v - before[i][k]);
      const want = [hostNorm(grads[i]), hostNorm(after[i]), hostNorm(update), hostNorm(update) / hostNorm(after[i])];
      expectClose([p.gradNorm!, p.weightNorm, p.updateNorm!, p.updateRatio!], want, 1e-6, 1e-4, name);
      // SGD without momentum: the update is lr · gradient.
      expectClose([p.updateNorm!], [0.1 * p.gradNorm!], 1e-6, 1e-3, `${name} update vs lr·grad`);
    });
    // gn.bias starts at zero: its ratio is over the weight after the step, which is not zero.
    expect(r.params['gn.bias'].updateRatio).toBeGreaterThan(0);
    expect(r.nonFiniteParams).toEqual([]);
    probes.detach();
    for (const t of [x, labels]) t.dispose();
    model.dispose();
  });

  it('without the optimizer calls, gradient and weight norms still come (taken when the step closes), update norms are null', async () => {
    manualSeed(5);
    const model = new Net();
    const x = randn([3, 2, 7, 7]);
    const labels = labelsOf(3);
    const sink = memorySink();
    const probes = attachProbes(model, { every: 1, sinks: [sink] });
    tidy(() => {
      crossEntropy(model.call(x), labels).backward();
    });
    const grad = await model.fc.weight.grad!.toArray();
    probes.step();
    await probes.flush();
    const p = sink.history[0].params['fc.weight'];
    expectClose([p.gradNorm!], [hostNorm(grad)], 1e-6, 1e-4, 'fc.weight grad norm');
    expect(p.updateNorm).toBeNull();
    expect(p.updateRatio).toBeNull();
    probes.detach();
    for (const t of [x, labels]) t.dispose();
    model.dispose();
  });

  it('params: false leaves parameters out', async () => {
    manualSeed(6);
    const model = new Net();
    const x = randn([2, 2, 5, 5]);
    const labels = labelsOf(2);
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    const sink = memorySink();
    const probes = attachProbes(model, { every: 1, params: false, sinks: [sink] });
    trainStep(model, opt, x, labels as Tensor, probes);
    await probes.flush();
    expect(sink.history[0].params).toEqual({});
    expect(Object.keys(sink.history[0].layers)).toEqual(['bn1', 'relu1', 'gn', 'relu2']);
    probes.detach();
    for (const t of [x, labels]) t.dispose();
    model.dispose();
  });
});
