import { assign, fromArray, manualSeed, randn, tidy, type Tensor } from '@welford/core';
import { BatchNorm1d, BatchRenorm2d, ConditionalBatchNorm2d, InstanceNorm2d, LayerNorm, Module } from '@welford/layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { attachProbes, memorySink } from '../src/index.ts';
import { captureNext, expectClose, hostChannelStats, useGpu } from './helpers.ts';

beforeAll(async () => {
  await useGpu();
});

/** Holds one layer of each remaining norm kind; the test calls them one by one. */
class Holder extends Module {
  readonly inorm = this.registerModule('inorm', new InstanceNorm2d(3, { affine: true, trackRunningStats: true }));
  readonly renorm = this.registerModule('renorm', new BatchRenorm2d(3));
  readonly cbn = this.registerModule('cbn', new ConditionalBatchNorm2d(3, 4));
  readonly ln = this.registerModule('ln', new LayerNorm([5]));
  readonly bn1d = this.registerModule('bn1d', new BatchNorm1d(5));

  forward(): Tensor {
    throw new Error('Holder: call the layers one by one');
  }
}

describe('every norm kind', () => {
  it('reports per-channel statistics on its channel axis, running statistics where kept, scale and shift', async () => {
    manualSeed(15);
    const holder = new Holder();
    const sink = memorySink();
    const probes = attachProbes(holder, { every: 1, sinks: [sink] });
    expect(probes.probedLayers).toEqual(['inorm', 'renorm', 'cbn', 'cbn.bn', 'ln', 'bn1d']);
    expect(probes.layerKind('renorm')).toEqual({ kind: 'norm', running: true });
    expect(probes.layerKind('inorm')).toEqual({ kind: 'norm', running: true });
    expect(probes.layerKind('ln')).toEqual({ kind: 'norm', running: false });
    // Conditional batch norm's running statistics are its child bn's.
    expect(probes.layerKind('cbn')).toEqual({ kind: 'norm', running: false });
    expect(probes.layerKind('cbn.bn')).toEqual({ kind: 'norm', running: true });
    expect(probes.layerKind('cbn.embed')).toBeUndefined();
    const image = randn([2, 3, 5, 3]);
    const sequence = randn([2, 4, 5]);
    const rows = randn([6, 5]);
    const labels = fromArray([3, 1], [2]);
    // Class k: γ = (k, 2k, 3k), β = −γ; over the 4 classes γ averages (1.5, 3, 4.5).
    const table = new Float32Array(4 * 6);
    for (let k = 0; k < 4; k++) for (let c = 0; c < 3; c++) [table[k * 6 + c], table[k * 6 + 3 + c]] = [k * (c + 1), -k * (c + 1)];
    assign(holder.cbn.embed.weight, table);
    const seen = {
      inorm: captureNext(holder.inorm),
      renorm: captureNext(holder.renorm),
      cbn: captureNext(holder.cbn),
      ln: captureNext(holder.ln),
      bn1d: captureNext(holder.bn1d),
    };
    tidy(() => {
      holder.inorm.call(image);
      holder.renorm.call(image);
      holder.cbn.call(image, labels);
      holder.ln.call(sequence);
      holder.bn1d.call(rows);
    });
    probes.step();
    await probes.flush();
    const r = sink.history[0].layers;
    // Channels: axis 1, except LayerNorm's first normalized axis (the last of [2, 4, 5]).
    const axes = { inorm: 1, renorm: 1, cbn: 1, ln: 2, bn1d: 1 };
    for (const [name, axis] of Object.entries(axes) as [keyof typeof axes, number][]) {
      const s = await seen[name];
      const input = hostChannelStats(await s.input, s.shape, axis);
      const output = hostChannelStats(await s.output, s.outputShape, axis);
      expectClose(r[name].input!.mean, input.mean, 1e-5, 1e-4, `${name} input mean`);
      expectClose(r[name].input!.var, input.var, 1e-5, 1e-4, `${name} input var`);
      expectClose(r[name].output.mean, output.mean, 1e-5, 1e-4, `${name} output mean`);
      expectClose(r[name].output.var, output.var, 1e-5, 1e-4, `${name} output var`);
    }
    const host = async (t: Tensor | null) => Array.from(await t!.toArray());
    expect(r.inorm.running!.mean).toEqual(await host(holder.inorm.runningMean));
    expect(r.renorm.running!.var).toEqual(await host(holder.renorm.runningVar));
    expect(r['cbn.bn'].running!.mean).toEqual(await host(holder.cbn.bn.runningMean));
    expect(r.bn1d.running!.var).toEqual(await host(holder.bn1d.runningVar));
    expect(r.ln.running).toBeUndefined();
    expect(r.cbn.running).toBeUndefined();
    expect(r.ln.weight).toEqual(await host(holder.ln.weight));
    expect(r.inorm.bias).toEqual(await host(holder.inorm.bias));
    // No norm kind reports activation statistics: its output is pre-ReLU (negative values included).
    for (const name of Object.keys(axes) as (keyof typeof axes)[]) {
      expect(r[name].activation, name).toBeUndefined();
      expect((await (await seen[name]).output).some((v) => v < 0), name).toBe(true);
    }
    // Conditional batch norm: γ and β per channel, averaged over the classes.
    expectClose(r.cbn.weight!, [1.5, 3, 4.5], 1e-6, 0, 'cbn weight');
    expectClose(r.cbn.bias!, [-1.5, -3, -4.5], 1e-6, 0, 'cbn bias');
    probes.detach();
    for (const t of [image, sequence, rows, labels]) t.dispose();
    holder.dispose();
  });
});
