import { beforeAll, describe, expect, it } from 'vitest';
import { acquireDevice, CpuBackend, fromArray, manualSeed, Random, SGD, tidy, WebGpuBackend, type Tensor } from '@welford/core';
import { BatchRenorm2d, DataParallel, defaultLoss, fit, Sequential, shardSizes, smallCnn, type Module } from '../src/index.ts';
import { expectClose, useGpu } from './helpers.ts';

// Replicas on devices of their own against one device with the whole batch.
let devices: WebGpuBackend[];
beforeAll(async () => {
  devices = [await useGpu()];
  for (let r = 1; r < 3; r++) devices.push(new WebGpuBackend(await acquireDevice()));
});

/** A small CNN with batch norm after each of its three convolutions (8×8 inputs, 3 classes). */
function build(): Module<[Tensor], Tensor> {
  manualSeed(5);
  return smallCnn({ inChannels: 2, classes: 3, widths: [4, 6, 6], norm: 'batch' });
}

/** Seeded images [n, 2, 8, 8] and labels [n] on replica 0's device. */
function batchOf(n: number, seed: number): { x: Tensor; y: Tensor } {
  const rng = new Random(seed);
  const x = Float32Array.from({ length: n * 2 * 64 }, () => rng.uniform() * 2 - 1 + 0.5);
  const y = Float32Array.from({ length: n }, () => Math.floor(rng.uniform() * 3));
  return { x: fromArray(x, [n, 2, 8, 8], { backend: devices[0] }), y: fromArray(y, [n], { backend: devices[0] }) };
}

async function stateOf(m: Module<[Tensor], Tensor>): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(m.stateDict())) out[k] = await t.toArray();
  return out;
}

/** `steps` SGD steps (momentum, weight decay) with the batch sizes given, on one device or on replicas. */
async function train(sizes: number[], replicas: number | null, syncBatchNorm = true): Promise<{ losses: number[]; outputs: Float32Array[]; states: Record<string, Float32Array>[] }> {
  const options = { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 };
  const losses: number[] = [];
  const outputs: Float32Array[] = [];
  if (replicas === null) {
    const model = build();
    const opt = new SGD(model.parameters(), options);
    for (const [k, n] of sizes.entries()) {
      const batch = batchOf(n, 100 + k);
      const [output, loss] = tidy(() => {
        opt.zeroGrad();
        const out = model.call(batch.x);
        const l = defaultLoss(out, batch);
        l.backward();
        opt.step();
        return [out.detach(), l.detach()];
      });
      outputs.push(await output.toArray());
      losses.push(await loss.item());
    }
    return { losses, outputs, states: [await stateOf(model)] };
  }
  const dp = await DataParallel.create(build, { replicas, syncBatchNorm, backends: devices.slice(0, replicas) });
  const opt = dp.optimizer((params) => new SGD(params, options));
  for (const [k, n] of sizes.entries()) {
    const batch = batchOf(n, 100 + k);
    const step = tidy(() => {
      opt.zeroGrad();
      const s = dp.forwardBackward(batch, defaultLoss);
      opt.step();
      return s;
    });
    outputs.push(await step.output.toArray());
    losses.push(await step.loss.item());
  }
  const states = [];
  for (const m of dp.replicas) states.push(await stateOf(m));
  return { losses, outputs, states };
}

describe('DataParallel', () => {
  it('splits a batch into contiguous shards that differ by at most one sample', () => {
    expect(shardSizes(7, 3)).toEqual([3, 2, 2]);
    expect(shardSizes(6, 3)).toEqual([2, 2, 2]);
    expect(shardSizes(3, 3)).toEqual([1, 1, 1]);
  });

  for (const [replicas, sizes] of [
    [2, [6, 6, 6]],
    [3, [7, 5, 9]],
  ] as const) {
    it(`with synchronised batch norm, ${replicas} replicas train as one device with the whole batch (batches ${sizes.join(', ')})`, async () => {
      const one = await train([...sizes], null);
      const many = await train([...sizes], replicas);
      expectClose(many.losses, one.losses, 1e-5, 1e-4, 'losses');
      for (const [k, o] of one.outputs.entries()) expectClose(many.outputs[k], o, 1e-4, 1e-3, `outputs of step ${k}`);
      for (const [r, state] of many.states.entries()) {
        for (const [name, want] of Object.entries(one.states[0])) expectClose(state[name], want, 1e-5, 1e-3, `replica ${r} ${name}`);
      }
      // Replicas stay identical, bit for bit: same gradients, same updates.
      for (const state of many.states.slice(1)) expect(state).toEqual(many.states[0]);
    });
  }

  it('without synchronisation, replicas normalize with their own shard: same weights, different running statistics', async () => {
    const one = await train([6, 6], null);
    const many = await train([6, 6], 2, false);
    const bnMean = Object.keys(many.states[0]).find((k) => k.endsWith('runningMean'))!;
    const spread = Math.max(...many.states[0][bnMean].map((v, i) => Math.abs(v - many.states[1][bnMean][i])));
    expect(spread, `replicas' ${bnMean} differ`).toBeGreaterThan(1e-4);
    const diff = Math.max(...many.outputs[0].map((v, i) => Math.abs(v - one.outputs[0][i])));
    expect(diff, 'outputs differ from the whole batch normalized together').toBeGreaterThan(1e-4);
    for (const [r, state] of many.states.entries()) {
      for (const [name, values] of Object.entries(state)) {
        if (!name.includes('running') && !name.includes('num')) expect(values, `replica ${r} ${name} equals replica 0's`).toEqual(many.states[0][name]);
      }
    }
  });

  it('fit trains a DataParallel like one device (synchronised batch norm, gradient clipping, two epochs)', async () => {
    const data = [batchOf(8, 1), batchOf(8, 2), batchOf(5, 3)];
    const copies = () => data.map((b) => ({ x: b.x, y: b.y }));
    const model = build();
    const single = await fit(model, { train: copies, epochs: 2, optimizer: new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 }), clipGradNorm: 0.5, disposeBatches: false });
    const dp = await DataParallel.create(build, { replicas: 3, syncBatchNorm: true, backends: devices });
    const parallel = await fit(dp, { train: copies, epochs: 2, optimizer: dp.optimizer((p) => new SGD(p, { lr: 0.05, momentum: 0.9 })), clipGradNorm: 0.5, disposeBatches: false });
    expectClose(parallel.epochs.map((e) => e.loss), single.epochs.map((e) => e.loss), 1e-5, 1e-4, 'epoch losses');
    expect(parallel.epochs.map((e) => e.accuracy)).toEqual(single.epochs.map((e) => e.accuracy));
    const want = await stateOf(model);
    const got = await stateOf(dp.module);
    for (const [name, values] of Object.entries(want)) expectClose(got[name], values, 1e-5, 1e-3, name);
  });

  it('inspects every replica\'s running statistics', async () => {
    const dp = await DataParallel.create(build, { replicas: 2, backends: devices.slice(0, 2) });
    tidy(() => dp.forwardBackward(batchOf(4, 9), defaultLoss));
    const stats = await dp.replicaStatistics();
    expect(stats.length).toBe(3);
    expect(stats[0].runningMean.length).toBe(2);
    expect(stats[0].runningMean[0]).not.toEqual(stats[0].runningMean[1]);
  });

  for (const syncBatchNorm of [true, false]) it(`a replica that fails mid-step leaves every replica as it was, and the next step works (syncBatchNorm ${syncBatchNorm})`, async () => {
    const dp = await DataParallel.create(build, { replicas: 2, syncBatchNorm, backends: devices.slice(0, 2) });
    const before = await stateOf(dp.module);
    // Replica 1 fails after replica 0 has recorded its forward and backward, which wait on it.
    const hook = dp.replicas[1].registerForwardPreHook(() => {
      throw new Error('replica 1 ran out of memory');
    });
    expect(() => tidy(() => dp.forwardBackward(batchOf(6, 3), defaultLoss))).toThrow('replica 1 ran out of memory');
    hook.remove();
    expect(dp.module.parameters().every((p) => p.grad === null)).toBe(true);
    // Nothing of the failed step ran: weights, running statistics and batch counts as before.
    expect(await stateOf(dp.module)).toEqual(before);
    const opt = dp.optimizer((params) => new SGD(params, { lr: 0.1 }));
    const step = tidy(() => {
      opt.zeroGrad();
      const s = dp.forwardBackward(batchOf(6, 4), defaultLoss);
      opt.step();
      return s;
    });
    expect(Number.isFinite(await step.loss.item())).toBe(true);
    const after = await Promise.all(dp.replicas.map(stateOf));
    // Equal weights; running statistics too when synchronised (otherwise each replica has its own).
    const compared = (state: Record<string, Float32Array>) => Object.fromEntries(Object.entries(state).filter(([k]) => syncBatchNorm || !k.includes('running')));
    expect(compared(after[1])).toEqual(compared(after[0]));
    const counter = Object.keys(after[0]).find((k) => k.endsWith('numBatchesTracked'))!;
    expect(after[0][counter]).toEqual(Float32Array.from([1]));
  });

  it('explains what it cannot do', async () => {
    await expect(DataParallel.create(build, { replicas: 0 })).rejects.toThrow(/replicas must be a positive integer, got 0/);
    await expect(DataParallel.create(build, { replicas: 2, backends: [devices[0]] })).rejects.toThrow(/expected 2 backends \(one per replica\), got 1/);
    await expect(DataParallel.create(build, { replicas: 2, backends: [devices[0], devices[0]] })).rejects.toThrow(/its own backend/);
    await expect(DataParallel.create(build, { replicas: 2, backends: [devices[0], new CpuBackend()] })).rejects.toThrow(/replica 1 is on cpu: .* every backend must be WebGPU/);
    const renorm = () => new Sequential(new BatchRenorm2d(2));
    await expect(DataParallel.create(renorm, { replicas: 2, syncBatchNorm: true, backends: devices.slice(0, 2) })).rejects.toThrow(/BatchRenorm2d at '0' has no synchronised form/);
    const dp = await DataParallel.create(build, { replicas: 3, backends: devices });
    expect(() => tidy(() => dp.forwardBackward(batchOf(2, 1), defaultLoss))).toThrow(/a batch of 2 samples .* cannot be split across 3 replicas/);
  });
});
