import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import { WebGpuBackend, type Tensor } from '../src/index.ts';
import { expectClose, randomData } from './helpers.ts';

// Replicas with a device each, against one device with the whole batch.
let devices: WebGpuBackend[];
beforeAll(async () => {
  devices = [];
  for (let r = 0; r < 3; r++) devices.push(new WebGpuBackend(await w.acquireDevice()));
  w.setBackend(devices[0]);
});

const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

interface Result {
  y: Float32Array;
  dx: Float32Array;
  dWeight: Float32Array;
  dBias: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
}

/** Batch norm on rows [from, to) of x (shape [N, ...rest]) on `backend`; the loss Σ y·probe / total. */
function runShard(
  norm: (x: Tensor, o: w.BatchNormOptions) => Tensor,
  backend: WebGpuBackend,
  data: Float32Array,
  shape: number[],
  probe: Float32Array,
  rows: [number, number],
  total: number,
  momentum: number | null = 0.1,
): () => Promise<Result> {
  const per = size(shape.slice(1));
  const c = shape[1];
  const on = { backend };
  const shardShape = [rows[1] - rows[0], ...shape.slice(1)];
  const x = w.fromArray(data.subarray(rows[0] * per, rows[1] * per), shardShape, { ...on, requiresGrad: true });
  const weight = w.fromArray(Array.from({ length: c }, (_, i) => 1 + 0.25 * i), [c], { ...on, requiresGrad: true });
  const bias = w.fromArray(Array.from({ length: c }, (_, i) => 0.5 - 0.1 * i), [c], { ...on, requiresGrad: true });
  const runningMean = w.fromArray(Array.from({ length: c }, (_, i) => 0.1 * i), [c], on);
  const runningVar = w.fromArray(Array.from({ length: c }, (_, i) => 1 + 0.2 * i), [c], on);
  const y = norm(x, { weight, bias, runningMean, runningVar, training: true, momentum, numBatchesTracked: 1 });
  const p = w.fromArray(probe.subarray(rows[0] * per, rows[1] * per), shardShape, on);
  w.mul(w.sum(w.mul(y, p)), 1 / total).backward();
  return async () => ({
    y: await y.toArray(),
    dx: await x.grad!.toArray(),
    dWeight: await weight.grad!.toArray(),
    dBias: await bias.grad!.toArray(),
    runningMean: await runningMean.toArray(),
    runningVar: await runningVar.toArray(),
  });
}

/** Splits N rows as `counts` over replicas, runs every replica's forward and backward, then reads. */
async function synced(data: Float32Array, shape: number[], probe: Float32Array, counts: number[], momentum: number | null = 0.1): Promise<Result[]> {
  const collective = new w.InProcessCollective(counts.length);
  const reads: (() => Promise<Result>)[] = [];
  let row = 0;
  counts.forEach((n, rank) => {
    const group = { collective, rank };
    reads.push(runShard((x, o) => w.syncBatchNorm(x, { ...o, group }), devices[rank], data, shape, probe, [row, row + n], shape[0], momentum));
    row += n;
  });
  return Promise.all(reads.map((read) => read()));
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let k = 0;
  for (const p of parts) {
    out.set(p, k);
    k += p.length;
  }
  return out;
}

function sumOf(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts[0].length);
  for (const p of parts) p.forEach((v, i) => (out[i] += v));
  return out;
}

describe('syncBatchNorm across replicas with a device each', () => {
  const cases: { name: string; shape: number[]; counts: number[]; scale?: number; offset?: number; momentum?: number | null }[] = [
    { name: '2 replicas, [6, 3, 5, 7] split 3 + 3', shape: [6, 3, 5, 7], counts: [3, 3] },
    { name: '3 replicas, [7, 5, 3, 3] split 3 + 2 + 2', shape: [7, 5, 3, 3], counts: [3, 2, 2] },
    { name: '3 replicas, [5, 4] split 2 + 2 + 1 (a replica with one value per channel)', shape: [5, 4], counts: [2, 2, 1] },
    { name: '2 replicas, [4, 3, 9] with mean 1e4 and std 1', shape: [4, 3, 9], counts: [1, 3], scale: 1.7, offset: 1e4 },
    { name: '2 replicas, momentum null (cumulative average)', shape: [6, 2, 3], counts: [4, 2], momentum: null },
  ];
  for (const k of cases) {
    it(`${k.name}: outputs, gradients and running statistics equal one device's with the whole batch`, async () => {
      const n = size(k.shape);
      const data = randomData(n, 11, k.scale ?? 2).map((v) => v + (k.offset ?? 0));
      const probe = randomData(n, 12);
      const momentum = k.momentum === undefined ? 0.1 : k.momentum;
      const want = await runShard(w.batchNorm, devices[0], data, k.shape, probe, [0, k.shape[0]], k.shape[0], momentum)();
      const got = await synced(data, k.shape, probe, k.counts, momentum);
      // Near 1e4 an input is known to float32's spacing there (2^-10): x − mean carries that much
      // error on one device as on several, whichever way the mean is rounded.
      const atol = k.offset ? 2 * 2 ** -10 : 2e-5;
      expectClose(concat(got.map((g) => g.y)), want.y, atol, 2e-5, 'y');
      expectClose(concat(got.map((g) => g.dx)), want.dx, atol, 1e-4, 'dx');
      expectClose(sumOf(got.map((g) => g.dWeight)), want.dWeight, k.offset ? atol : 1e-5, 1e-4, 'dWeight (summed over replicas)');
      expectClose(sumOf(got.map((g) => g.dBias)), want.dBias, 1e-5, 1e-4, 'dBias (summed over replicas)');
      // Running statistics: the same on every replica, and those of the whole batch.
      const meanTol = k.offset ? 1e-5 * k.offset : 1e-6;
      for (const [rank, g] of got.entries()) {
        expectClose(g.runningMean, want.runningMean, meanTol, 1e-5, `replica ${rank} runningMean`);
        expectClose(g.runningVar, want.runningVar, 1e-5, 1e-4, `replica ${rank} runningVar`);
        expect([...g.runningMean], `replica ${rank} agrees bitwise with replica 0`).toEqual([...got[0].runningMean]);
      }
    });
  }

  it('unsynchronised replicas normalize with their own shard: the outputs differ from the whole batch', async () => {
    const shape = [4, 2, 3];
    const data = randomData(size(shape), 21, 2);
    const probe = randomData(size(shape), 22);
    const want = await runShard(w.batchNorm, devices[0], data, shape, probe, [0, 4], 4)();
    const local = await runShard(w.batchNorm, devices[1], data, shape, probe, [0, 2], 4)();
    const diff = Math.max(...local.y.map((v, i) => Math.abs(v - want.y[i])));
    expect(diff).toBeGreaterThan(1e-3);
  });

  it('one value per channel across all replicas is an error, reported to whoever reads a value', async () => {
    const collective = new w.InProcessCollective(2);
    const outputs = [0, 1].map((rank) => {
      const x = w.fromArray([rank + 1, rank + 2], [1, 2, 1].slice(0, 2), { backend: devices[rank] });
      return w.syncBatchNorm(x.view([1, 2]).view([1, 2]), { group: { collective, rank }, training: true });
    });
    // Two replicas with one sample each have two values per channel: fine.
    expect((await outputs[0].toArray()).length).toBe(2);
    const lonely = new w.InProcessCollective(1);
    const y = w.syncBatchNorm(w.fromArray([1, 2], [1, 2], { backend: devices[2] }), { group: { collective: lonely, rank: 0 }, training: true });
    await expect(y.toArray()).rejects.toThrow(/Expected more than 1 value per channel when training, got 1 across the replicas/);
    // The device goes on working after the dropped work.
    expect([...(await w.add(w.fromArray([1], [1], { backend: devices[2] }), 1).toArray())]).toEqual([2]);
  });

  it('replicas that disagree (different channel counts) get an error naming the problem', async () => {
    const collective = new w.InProcessCollective(2);
    const ys = [3, 4].map((c, rank) => w.syncBatchNorm(w.fromArray(randomData(2 * c, rank), [2, c], { backend: devices[rank] }), { group: { collective, rank }, training: true }));
    for (const y of ys) await expect(y.toArray()).rejects.toThrow(/replica 1 sent statistics for 4 channels, expected 3|replica 0 sent statistics for 3 channels, expected 4/);
  });

  it('checks its arguments before recording anything', () => {
    const x = w.fromArray(randomData(6, 1), [3, 2], { backend: devices[0] });
    const collective = new w.InProcessCollective(2);
    expect(() => w.syncBatchNorm(x, { group: { collective, rank: 2 }, training: true })).toThrow(/rank must be an integer in \[0, 2\), got 2/);
    expect(() => w.syncBatchNorm(x, { group: undefined as unknown as w.ProcessGroup, training: true })).toThrow(/group must be a ProcessGroup/);
    expect(() => w.syncBatchNorm(x, { group: { collective, rank: 0 }, training: true, weight: w.ones([3], { backend: devices[0] }) })).toThrow(/expected weight of shape \[2\]/);
    expect(() => w.syncBatchNorm(w.fromArray([1, 2], [1, 2], { backend: new w.CpuBackend() }), { group: { collective: new w.InProcessCollective(1), rank: 0 }, training: true })).toThrow(/need the WebGPU backend/);
    expect(collective.callCounts).toEqual([0, 0]);
  });

  it('evaluation uses the running statistics and communicates nothing', async () => {
    const collective = new w.InProcessCollective(2);
    const x = w.fromArray([1, 2, 3, 4], [2, 2], { backend: devices[0] });
    const stats = { runningMean: w.fromArray([1, 2], [2], { backend: devices[0] }), runningVar: w.fromArray([4, 1], [2], { backend: devices[0] }) };
    const y = await w.syncBatchNorm(x, { group: { collective, rank: 0 }, ...stats, eps: 0 }).toArray();
    expectClose(y, [0, 0, 1, 2], 1e-6);
    expect(collective.callCounts).toEqual([0, 0]);
  });
});
