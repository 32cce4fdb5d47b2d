import { manualSeed, randn, SGD } from '@welford/core';
import { smallCnn, type NormKind } from '@welford/layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { attachProbes, memorySink } from '../src/index.ts';
import { captureNext, expectClose, labelsOf, trainStep, useGpu } from './helpers.ts';

beforeAll(async () => {
  await useGpu();
});

// Model S puts a ReLU module relu{i} after each norm bn{i}: the default probes must still give a
// dead fraction per stage, from relu{i}, whatever the norm (with 'none', bn{i} is an Identity).
describe('model S under the default probes', () => {
  it.each<[NormKind, string[]]>([
    ['batch', ['bn1', 'relu1', 'bn2', 'relu2', 'bn3', 'relu3']],
    ['none', ['relu1', 'relu2', 'relu3']],
  ])('norm %s: a dead fraction per stage from relu{i}, none from the norms', async (norm, probed) => {
    manualSeed(21);
    const model = smallCnn({ width: 4, classes: 3, norm });
    const x = randn([4, 1, 8, 8]);
    const labels = labelsOf(4);
    const sink = memorySink();
    const probes = attachProbes(model, { every: 1, sinks: [sink] });
    expect(probes.probedLayers).toEqual(probed);
    for (const name of ['relu1', 'relu2', 'relu3']) expect(probes.layerKind(name)).toEqual({ kind: 'relu' });
    const seen = model.relus.map((m) => captureNext(m));
    trainStep(model, new SGD(model.parameters(), { lr: 0.05 }), x, labels, probes);
    await probes.flush();
    const layers = sink.history[0].layers;
    for (const [i, s] of seen.entries()) {
      const y = await (await s).output;
      const zeros = y.filter((v) => v === 0).length / y.length;
      expect(zeros, `relu${i + 1}`).toBeGreaterThan(0);
      expectClose([layers[`relu${i + 1}`].activation!.deadFraction], [zeros], 1e-6, 0, `relu${i + 1} dead fraction`);
      if (norm !== 'none') expect(layers[`bn${i + 1}`].activation, `bn${i + 1}`).toBeUndefined();
    }
    probes.detach();
    for (const t of [x, labels]) t.dispose();
    model.dispose();
  });
});
