import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { Backend, Tensor, WebGpuBackend } from '../src/index.ts';
import type { Grouping } from '../src/kernels/norm.ts';
import { chunkCount, reductionGeometry } from '../src/kernels/reduction_plan.ts';
import { normStatistics } from '../src/ops/norm.ts';
import { Random } from '../src/util/random.ts';
import { cpuBackend, expectClose, expectTensorsClose, gpuBackend, onBoth, randomData } from './helpers.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);
const on = (data: ArrayLike<number>, shape: readonly number[], backend: Backend): Tensor => w.fromArray(data, shape, { backend });

/** Weight and bias of `shape` on one backend (seeded: the same on both). */
function params(shape: readonly number[], backend: Backend, seed: number): { weight: Tensor; bias: Tensor } {
  const n = size(shape);
  const weight = on(randomData(n, seed).map((v) => 1 + 0.5 * v), shape, backend);
  return { weight, bias: on(randomData(n, seed + 1), shape, backend) };
}

type Norm = (x: Tensor, affine: { weight: Tensor; bias: Tensor } | null, relu: boolean) => Tensor;

interface NormCase {
  name: string;
  shape: number[];
  /** Shape of weight and bias. */
  affine: number[];
  run: Norm;
}

const pick = (a: { weight: Tensor; bias: Tensor } | null) => (a ? { weight: a.weight, bias: a.bias } : {});

/** Every norm on the odd shapes: batch norm over channels (N = 1 with spatial dims too), the others per group. */
const cases: NormCase[] = [
  ...[[3, 5, 7, 9], [2, 6, 33], [7, 3], [1, 4, 5, 5], [257, 3]].map((shape) => ({
    name: 'batchNorm',
    shape,
    affine: [shape[1]],
    run: ((x, a, relu) => w.batchNorm(x, { ...pick(a), training: true, relu })) as Norm,
  })),
  ...([
    [[3, 6, 7, 9], 3],
    [[2, 6, 33], 2],
    [[7, 3], 1],
    [[1, 4, 5, 5], 2],
    [[2, 8, 17, 19], 4],
  ] as [number[], number][]).map(([shape, groups]) => ({
    name: `groupNorm(${groups})`,
    shape,
    affine: [shape[1]],
    run: ((x, a, relu) => w.groupNorm(x, groups, { ...pick(a), relu })) as Norm,
  })),
  ...[[3, 5, 7, 9], [2, 6, 33], [1, 4, 5, 5]].map((shape) => ({
    name: 'instanceNorm',
    shape,
    affine: [shape[1]],
    run: ((x, a, relu) => w.instanceNorm(x, { ...pick(a), relu })) as Norm,
  })),
  ...([
    [[3, 5, 7, 9], [7, 9]],
    [[3, 5, 7, 9], [5, 7, 9]],
    [[2, 6, 33], [33]],
    [[7, 3], [3]],
    [[1, 4, 5, 5], [4, 5, 5]],
    [[5, 1000], [1000]],
  ] as [number[], number[]][]).map(([shape, normalized]) => ({
    name: `layerNorm(${JSON.stringify(normalized)})`,
    shape,
    affine: normalized,
    run: ((x, a, relu) => w.layerNorm(x, normalized, { ...pick(a), relu })) as Norm,
  })),
];

describe('normalization: WebGPU against the CPU reference', () => {
  for (const c of cases) {
    for (const [affine, relu] of [
      [false, false],
      [true, false],
      [true, true],
    ] as const) {
      it(`${c.name} of ${JSON.stringify(c.shape)}${affine ? ' with weight and bias' : ''}${relu ? ', fused ReLU' : ''}`, async () => {
        const [g, cx] = onBoth(randomData(size(c.shape), size(c.shape) + c.shape.length, 3), c.shape, gpu);
        const got = c.run(g, affine ? params(c.affine, gpu, 5) : null, relu);
        const want = c.run(cx, affine ? params(c.affine, cpuBackend(), 5) : null, relu);
        await expectTensorsClose(got, want, 1e-4, 1e-4, c.name);
        if (relu) expect((await got.toArray()).every((v) => v >= 0)).toBe(true);
      });
    }
  }

  it('the fused ReLU equals relu of the plain result', async () => {
    const x = on(randomData(2 * 6 * 33, 4, 2), [2, 6, 33], gpu);
    const a = params([6], gpu, 9);
    await expectTensorsClose(w.batchNorm(x, { ...a, training: true, relu: true }), w.relu(w.batchNorm(x, { ...a, training: true })), 1e-6, 0, 'batchNorm');
    await expectTensorsClose(w.groupNorm(x, 3, { ...a, relu: true }), w.relu(w.groupNorm(x, 3, a)), 1e-6, 0, 'groupNorm');
  });
});

describe('normalization: what is averaged', () => {
  it('batch norm of [[1, 2], [3, 6]] normalizes each column', async () => {
    for (const backend of [cpuBackend(), gpu]) {
      const y = w.batchNorm(on([1, 2, 3, 6], [2, 2], backend), { training: true, eps: 0 });
      expectClose(await y.toArray(), [-1, -1, 1, 1], 1e-6, 1e-6, backend.kind);
      const biased = w.batchNorm(on([1, 2, 3, 6], [2, 2], backend), { training: true, eps: 1 });
      // Column 1: mean 4, biased variance 4; eps inside the square root.
      expectClose(await biased.toArray(), [-1 / Math.SQRT2, -2 / Math.sqrt(5), 1 / Math.SQRT2, 2 / Math.sqrt(5)], 1e-6, 1e-6, backend.kind);
    }
  });

  it('layer norm equals (x − mean) / sqrt(var + eps) over the trailing dims, from the public reductions', async () => {
    const x = on(randomData(3 * 5 * 7, 8, 4), [3, 5, 7], gpu);
    const eps = 1e-3;
    const centred = w.sub(x, w.mean(x, [1, 2], true));
    const want = w.div(centred, w.sqrt(w.add(w.variance(x, [1, 2], { correction: 0, keepDims: true }), eps)));
    await expectTensorsClose(w.layerNorm(x, [5, 7], { eps }), want, 1e-5, 1e-4, 'layerNorm');
  });

  it('group norm with one group is layer norm over (C, H, W); with C groups it is instance norm', async () => {
    const x = on(randomData(2 * 6 * 5 * 3, 10, 2), [2, 6, 5, 3], gpu);
    await expectTensorsClose(w.groupNorm(x, 1), w.layerNorm(x, [6, 5, 3]), 1e-5, 1e-5, 'G = 1');
    await expectTensorsClose(w.groupNorm(x, 6), w.instanceNorm(x), 1e-5, 1e-5, 'G = C');
    const a = params([6], gpu, 3);
    await expectTensorsClose(w.groupNorm(x, 6, a), w.instanceNorm(x, a), 1e-5, 1e-5, 'G = C, affine');
  });

  it('instance norm equals batch norm of each sample alone', async () => {
    const data = randomData(3 * 4 * 10, 12, 2);
    const x = on(data, [3, 4, 10], gpu);
    const got = await w.instanceNorm(x).toArray();
    for (let n = 0; n < 3; n++) {
      const one = w.batchNorm(on(data.subarray(n * 40, (n + 1) * 40), [1, 4, 10], gpu), { training: true });
      expectClose(got.subarray(n * 40, (n + 1) * 40), await one.toArray(), 1e-5, 1e-5, `sample ${n}`);
    }
  });

  it('a batch of one on (N, C) is rejected, but a group of one value normalizes to β', async () => {
    expect(() => w.batchNorm(on([1, 2], [1, 2], gpu), { training: true })).toThrow(/more than 1 value per channel/);
    const y = w.groupNorm(on([1, 2, 3, 4, 5, 6], [2, 3], gpu), 3, { bias: on([7, 8, 9], [3], gpu) });
    expect(Array.from(await y.toArray())).toEqual([7, 8, 9, 7, 8, 9]);
  });
});

describe('batch norm running statistics', () => {
  const shape = [4, 3, 5];
  const batches = [0, 1, 2].map((k) => randomData(size(shape), 40 + k, 2 + k).map((v) => v + k));

  /** Per-channel mean and unbiased variance of a batch, in float64. */
  function channelStats(data: Float32Array): { mean: number[]; unbiased: number[] } {
    const [n, c, l] = shape;
    const mean = Array.from({ length: c }, (_, ch) => {
      let s = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < l; j++) s += data[(i * c + ch) * l + j];
      return s / (n * l);
    });
    const unbiased = mean.map((m, ch) => {
      let s = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < l; j++) s += (data[(i * c + ch) * l + j] - m) ** 2;
      return s / (n * l - 1);
    });
    return { mean, unbiased };
  }

  for (const momentum of [0.1, null]) {
    it(`after three training calls with momentum ${momentum}: WebGPU, the CPU reference and the formula agree`, async () => {
      const results: Float32Array[][] = [];
      for (const backend of [gpu, cpuBackend()]) {
        const runningMean = w.zeros([3], { backend });
        const runningVar = w.ones([3], { backend });
        batches.forEach((data, k) => {
          w.batchNorm(on(data, shape, backend), { runningMean, runningVar, training: true, momentum, numBatchesTracked: k + 1 });
        });
        results.push([await runningMean.toArray(), await runningVar.toArray()]);
      }
      const mean = [0, 0, 0];
      const variance = [1, 1, 1];
      batches.forEach((data, k) => {
        const m = momentum ?? 1 / (k + 1);
        const s = channelStats(data);
        for (let c = 0; c < 3; c++) {
          mean[c] = (1 - m) * mean[c] + m * s.mean[c];
          variance[c] = (1 - m) * variance[c] + m * s.unbiased[c];
        }
      });
      for (const [got, want, what] of [
        [results[0][0], mean, 'runningMean (WebGPU)'],
        [results[0][1], variance, 'runningVar (WebGPU)'],
        [results[1][0], mean, 'runningMean (CPU)'],
        [results[1][1], variance, 'runningVar (CPU)'],
      ] as const) {
        expectClose(got, want, 1e-5, 1e-5, what);
      }
      if (momentum === null) {
        // The cumulative average of three batches is their plain average.
        const avg = [0, 1, 2].map((c) => batches.reduce((s, d) => s + channelStats(d).mean[c], 0) / 3);
        expectClose(results[0][0], avg, 1e-5, 1e-5, 'cumulative mean');
      }
    });
  }

  it('evaluation normalizes with the running statistics and leaves them alone', async () => {
    const data = batches[1];
    const rm = [0.5, -1, 2];
    const rv = [0.25, 4, 1];
    for (const backend of [gpu, cpuBackend()]) {
      const runningMean = on(rm, [3], backend);
      const runningVar = on(rv, [3], backend);
      const { weight, bias } = params([3], backend, 2);
      const y = await w.batchNorm(on(data, shape, backend), { runningMean, runningVar, weight, bias, eps: 1e-3 }).toArray();
      const gamma = await weight.toArray();
      const beta = await bias.toArray();
      const want = Array.from(data, (v, i) => {
        const c = Math.floor(i / 5) % 3;
        return ((v - rm[c]) / Math.sqrt(rv[c] + 1e-3)) * gamma[c] + beta[c];
      });
      expectClose(y, want, 1e-5, 1e-5, backend.kind);
      expect(Array.from(await runningMean.toArray())).toEqual(rm);
      expect(Array.from(await runningVar.toArray())).toEqual(rv);
    }
  });

  it('evaluation on odd shapes matches the CPU reference, with and without affine and ReLU', async () => {
    for (const [s, relu] of [
      [[3, 5, 7, 9], false],
      [[2, 6, 33], true],
      [[7, 3], false],
      [[1, 4, 5, 5], true],
    ] as [number[], boolean][]) {
      const run = (backend: Backend, affine: boolean) =>
        w.batchNorm(on(randomData(size(s), 3, 3), s, backend), {
          runningMean: on(randomData(s[1], 4), [s[1]], backend),
          runningVar: on(randomData(s[1], 5).map((v) => 1.5 + v), [s[1]], backend),
          ...(affine ? params([s[1]], backend, 6) : {}),
          relu,
        });
      for (const affine of [false, true]) await expectTensorsClose(run(gpu, affine), run(cpuBackend(), affine), 1e-5, 1e-5, JSON.stringify(s));
    }
  });

  it('training without running statistics normalizes with the batch and updates nothing', async () => {
    const x = on(batches[0], shape, gpu);
    const y = await w.batchNorm(x, { training: true }).toArray();
    let m = 0;
    for (let i = 0; i < 4; i++) for (let j = 0; j < 5; j++) m += y[(i * 3 + 1) * 5 + j];
    expect(Math.abs(m / 20)).toBeLessThan(1e-6);
  });
});

describe('batch renormalization', () => {
  const shape = [6, 3, 4];
  const data = randomData(size(shape), 21, 2);

  function run(backend: Backend, training: boolean, rmax: number, dmax: number, rm = [0.3, -0.2, 5], rv = [0.5, 2, 0.01]) {
    const runningMean = on(rm, [3], backend);
    const runningVar = on(rv, [3], backend);
    const y = w.batchRenorm(on(data, shape, backend), { runningMean, runningVar, ...params([3], backend, 8), training, rmax, dmax, eps: 1e-4 });
    return { y, runningMean, runningVar };
  }

  it('matches the CPU reference, output and updated running statistics (some channels clipped)', async () => {
    for (const training of [true, false]) {
      const g = run(gpu, training, 3, 1);
      const c = run(cpuBackend(), training, 3, 1);
      await expectTensorsClose(g.y, c.y, 1e-5, 1e-5, 'output');
      await expectTensorsClose(g.runningMean, c.runningMean, 1e-6, 1e-6, 'runningMean');
      await expectTensorsClose(g.runningVar, c.runningVar, 1e-6, 1e-6, 'runningVar');
    }
  });

  it('with r clipped to 1 and d to 0 it is batch norm in training; with training false, batch norm in evaluation', async () => {
    for (const backend of [gpu, cpuBackend()]) {
      const a = params([3], backend, 8);
      const { y } = run(backend, true, 1, 0);
      await expectTensorsClose(y, w.batchNorm(on(data, shape, backend), { ...a, training: true, eps: 1e-4 }), 1e-6, 1e-6, 'training');
      const e = run(backend, false, 3, 1);
      const bn = w.batchNorm(on(data, shape, backend), { ...a, runningMean: on([0.3, -0.2, 5], [3], backend), runningVar: on([0.5, 2, 0.01], [3], backend), eps: 1e-4 });
      await expectTensorsClose(e.y, bn, 1e-6, 1e-6, 'evaluation');
    }
  });

  it('follows the formula: r and d from the running statistics before the update', async () => {
    const rm = [0.3, -0.2, 5];
    const rv = [0.5, 2, 0.01];
    const { y } = run(cpuBackend(), true, 3, 1, rm, rv);
    const got = await y.toArray();
    const gamma = await params([3], cpuBackend(), 8).weight.toArray();
    const beta = await params([3], cpuBackend(), 8).bias.toArray();
    const clip = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    for (let c = 0; c < 3; c++) {
      const values: number[] = [];
      for (let n = 0; n < 6; n++) for (let j = 0; j < 4; j++) values.push(data[(n * 3 + c) * 4 + j]);
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      const sigmaB = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length + 1e-4);
      const sigma = Math.sqrt(rv[c] + 1e-4);
      const r = clip(sigmaB / sigma, 1 / 3, 3);
      const d = clip((mean - rm[c]) / sigma, -1, 1);
      for (let n = 0; n < 6; n++) {
        for (let j = 0; j < 4; j++) {
          const i = (n * 3 + c) * 4 + j;
          expectClose([got[i]], [gamma[c] * (((data[i] - mean) / sigmaB) * r + d) + beta[c]], 1e-5, 1e-5, `channel ${c}`);
        }
      }
    }
  });
});

describe('statistics: stability and the two-level split', () => {
  it('mean 1e4 and std 1: the variance is right to 1e-3 relative in float32 (one thread, one workgroup, two levels)', async () => {
    const rng = new Random(9);
    for (const [shape, grouping, what] of [
      [[64, 3, 5], { kind: 'batch' }, 'per thread (320 values per channel)'],
      [[8, 3, 700], { kind: 'batch' }, 'one workgroup (5600 values per channel)'],
      [[2, 4, 33], { kind: 'layer', normalizedRank: 2 }, 'layer norm, one workgroup'],
      [[3, 4, 65_536], { kind: 'group', numGroups: 2 }, 'two levels (131072 values per group)'],
    ] as [number[], Grouping, string][]) {
      const data = Float32Array.from({ length: size(shape) }, () => 1e4 + rng.normal());
      const [g, c] = onBoth(data, shape, gpu);
      const got = await normStatistics(g, grouping).toArray();
      const want = await normStatistics(c, grouping).toArray();
      const groups = want.length / 2;
      for (let k = 0; k < groups; k++) {
        // The data have std 1 (up to sampling: 320 values give about ±8%).
        expect(Math.abs(want[groups + k] - 1), what).toBeLessThan(0.35);
        expectClose([got[k]], [want[k]], 0, 1e-7, `${what}: mean`);
        expectClose([got[groups + k]], [want[groups + k]], 0, 1e-3, `${what}: variance`);
      }
    }
  });

  it('group norm with groups long enough to split in two levels (statistics and backward sums) matches the reference', async () => {
    // 2 samples x 2 groups of 2 channels x 5001 positions: 10002 values per group, 4 groups.
    const shape = [2, 4, 5001];
    expect(chunkCount(reductionGeometry([4, 10002], [1]))).toBeGreaterThan(1);
    expect(chunkCount(reductionGeometry([2, 4, 5001], [0, 2]))).toBeGreaterThan(1);
    const [xg, xc] = onBoth(randomData(size(shape), 15, 3).map((v) => v + 7), shape, gpu, cpuBackend(), true);
    const [dyG, dyC] = onBoth(randomData(size(shape), 16), shape, gpu);
    const [wg, wc] = onBoth(randomData(4, 17), [4], gpu, cpuBackend(), true);
    const [bg, bc] = onBoth(randomData(4, 18), [4], gpu, cpuBackend(), true);
    const run = (x: Tensor, dy: Tensor, weight: Tensor, bias: Tensor): Tensor => {
      const y = w.groupNorm(x, 2, { weight, bias });
      w.sum(w.mul(y, dy)).backward();
      return y;
    };
    const before = gpu.counters.dispatches;
    const got = run(xg, dyG, wg, bg);
    // Forward: statistics (chunk states, merge) and the normalize pass; backward: the sums per
    // group and per channel (two levels each) and dx, besides the loss's own dispatches.
    expect(gpu.counters.dispatches - before).toBeGreaterThanOrEqual(8);
    await expectTensorsClose(got, run(xc, dyC, wc, bc), 1e-4, 1e-4, 'output');
    await expectTensorsClose(xg.grad!, xc.grad!, 1e-4, 1e-3, 'x.grad');
    await expectTensorsClose(wg.grad!, wc.grad!, 1e-2, 1e-4, 'weight.grad');
    await expectTensorsClose(bg.grad!, bc.grad!, 1e-2, 1e-4, 'bias.grad');
  });

  it('batch norm of [4, 2, 512, 512] (524288 values per channel) splits in two levels and matches the reference', async () => {
    const shape = [4, 2, 512, 512];
    expect(chunkCount(reductionGeometry([4, 2, 512 * 512], [0, 2]))).toBeGreaterThan(1);
    const data = randomData(size(shape), 77, 3).map((v, i) => v + (Math.floor(i / (512 * 512)) % 2 === 0 ? 5 : -2));
    const [g, c] = onBoth(data, shape, gpu);
    const [gm, gv, cm, cv] = [w.zeros([2], { backend: gpu }), w.ones([2], { backend: gpu }), w.zeros([2], { backend: cpuBackend() }), w.ones([2], { backend: cpuBackend() })];
    const before = gpu.counters.dispatches;
    const got = w.batchNorm(g, { runningMean: gm, runningVar: gv, training: true, momentum: 1 });
    // Chunk states, their merge, the running update; the normalize pass runs when the output is first used.
    expect(gpu.counters.dispatches - before).toBe(3);
    const want = w.batchNorm(c, { runningMean: cm, runningVar: cv, training: true, momentum: 1 });
    await expectTensorsClose(got, want, 1e-4, 1e-4, 'output');
    expect(gpu.counters.dispatches - before).toBe(4);
    await expectTensorsClose(gm, cm, 1e-5, 1e-5, 'runningMean');
    await expectTensorsClose(gv, cv, 0, 1e-4, 'runningVar');
  });
});

describe('normalization memory', () => {
  it('frees the statistics when nothing differentiates the result', async () => {
    const x = on(randomData(2 * 6 * 33, 3), [2, 6, 33], gpu);
    const rm = w.zeros([6], { backend: gpu });
    const rv = w.ones([6], { backend: gpu });
    const before = w.memory().liveBuffers;
    for (const y of [
      w.batchNorm(x, { training: true, runningMean: rm, runningVar: rv }),
      w.batchNorm(x, { runningMean: rm, runningVar: rv }),
      w.batchRenorm(x, { runningMean: rm, runningVar: rv, ...params([6], gpu, 1), training: true, rmax: 2, dmax: 1 }),
      w.groupNorm(x, 3),
      w.layerNorm(x, [33]),
    ]) {
      y.dispose();
    }
    // batchRenorm's weight and bias stay.
    expect(w.memory().liveBuffers - before).toBe(2);
  });
});

describe('normalization errors', () => {
  const x4 = () => w.zeros([2, 4, 3]);

  it('batch norm: one value per channel when training, as PyTorch words it', () => {
    expect(() => w.batchNorm(w.zeros([1, 4]), { training: true })).toThrow('batchNorm: Expected more than 1 value per channel when training, got input size [1, 4]');
    expect(() => w.batchNorm(w.zeros([1, 4, 1, 1]), { training: true })).toThrow('got input size [1, 4, 1, 1]');
  });

  it('group norm: channels not divisible by the groups, as PyTorch words it', () => {
    expect(() => w.groupNorm(w.zeros([2, 6, 4, 4]), 4)).toThrow('groupNorm: Expected number of channels in input to be divisible by num_groups, but got input of shape [2, 6, 4, 4] and num_groups=4');
    expect(() => w.groupNorm(w.zeros([2, 6]), 0)).toThrow('groupNorm: numGroups must be a positive integer, got 0');
  });

  it('wrong ranks', () => {
    expect(() => w.batchNorm(w.zeros([5]), { training: true })).toThrow('batchNorm: expected an input of shape (N, C, ...) with at least 2 dims, got [5]');
    expect(() => w.groupNorm(w.zeros([5]), 1)).toThrow('groupNorm: expected an input of shape (N, C, ...) with at least 2 dims, got [5]');
    expect(() => w.instanceNorm(w.zeros([2, 3]))).toThrow('instanceNorm: expected an input of shape (N, C, L) or (N, C, H, W) with at least 3 dims, got [2, 3]');
    expect(() => w.instanceNorm(w.zeros([2, 3, 1, 1]))).toThrow('instanceNorm: Expected more than 1 spatial element when training, got input size [2, 3, 1, 1]');
  });

  it('weight, bias and running statistics of the wrong shape name the tensor and both shapes', () => {
    expect(() => w.batchNorm(x4(), { weight: w.ones([3]), training: true })).toThrow('batchNorm: expected weight of shape [4] (one value per channel of input [2, 4, 3]), got [3]');
    expect(() => w.batchNorm(x4(), { bias: w.ones([4, 1]), training: true })).toThrow('batchNorm: expected bias of shape [4] (one value per channel of input [2, 4, 3]), got [4, 1]');
    expect(() => w.batchNorm(x4(), { runningMean: w.zeros([5]), runningVar: w.ones([4]) })).toThrow('batchNorm: expected runningMean of shape [4]');
    expect(() => w.batchNorm(x4(), { runningMean: w.zeros([4]), runningVar: w.ones([2]) })).toThrow('batchNorm: expected runningVar of shape [4] (one value per channel of input [2, 4, 3]), got [2]');
    expect(() => w.groupNorm(x4(), 2, { weight: w.ones([2]) })).toThrow('groupNorm: expected weight of shape [4] (one value per channel of input [2, 4, 3]), got [2]');
    expect(() => w.instanceNorm(x4(), { bias: w.ones([3]) })).toThrow('instanceNorm: expected bias of shape [4]');
    expect(() => w.layerNorm(x4(), [4, 3], { weight: w.ones([3]) })).toThrow('layerNorm: expected weight of shape [4, 3] (the normalized shape), got [3]');
  });

  it('layer norm: normalizedShape must match the trailing dims', () => {
    expect(() => w.layerNorm(w.zeros([3, 4]), [5])).toThrow('layerNorm: Given normalizedShape=[5], expected input with shape [*, 5], but got input of size [3, 4]');
    expect(() => w.layerNorm(w.zeros([4]), [3, 4])).toThrow('layerNorm: Given normalizedShape=[3, 4], expected input with shape [*, 3, 4], but got input of size [4]');
    expect(() => w.layerNorm(w.zeros([3, 4]), [])).toThrow('layerNorm: Expected normalizedShape to be at least 1-dimensional');
  });

  it('options: evaluation needs running statistics, momentum null needs numBatchesTracked, renorm needs its bounds', () => {
    expect(() => w.batchNorm(x4())).toThrow('batchNorm: runningMean and runningVar are required when training is false');
    expect(() => w.batchNorm(x4(), { runningMean: w.zeros([4]), training: true })).toThrow('batchNorm: runningMean and runningVar must be given together');
    const running = () => ({ runningMean: w.zeros([4]), runningVar: w.ones([4]) });
    expect(() => w.batchNorm(x4(), { ...running(), training: true, momentum: null })).toThrow('batchNorm: momentum null (a cumulative average) needs numBatchesTracked');
    expect(() => w.batchNorm(x4(), { training: true, eps: -1 })).toThrow('batchNorm: eps must be a finite number >= 0, got -1');
    const rm = w.zeros([4]);
    expect(() => w.batchNorm(x4(), { runningMean: rm, runningVar: rm })).toThrow('batchNorm: runningMean and runningVar must not share storage');
    const renorm = { ...running(), weight: w.ones([4]), bias: w.zeros([4]), training: true };
    expect(() => w.batchRenorm(x4(), { ...renorm, rmax: 0.5, dmax: 1 })).toThrow('batchRenorm: rmax must be a finite number >= 1, got 0.5');
    expect(() => w.batchRenorm(x4(), { ...renorm, rmax: 2, dmax: -1 })).toThrow('batchRenorm: dmax must be a finite number >= 0, got -1');
  });

  it('tensors on two devices are rejected, naming the op', () => {
    expect(() => w.batchNorm(x4(), { weight: w.ones([4], { backend: cpuBackend() }), training: true })).toThrow(/^batchNorm: all tensors must be on one device/);
  });

  it('running statistics stay untouched when a call fails', async () => {
    for (const backend of [gpu, cpuBackend()]) {
      const runningMean = on([1, 2, 3, 4], [4], backend);
      const runningVar = on([5, 6, 7, 8], [4], backend);
      const x = on(randomData(24, 1), [2, 4, 3], backend);
      const bad: [string, () => void][] = [
        ['bad weight', () => w.batchNorm(x, { runningMean, runningVar, weight: w.ones([3], { backend }), training: true })],
        ['bad bias', () => w.batchNorm(x, { runningMean, runningVar, bias: w.ones([5], { backend }), training: true })],
        ['one value per channel', () => w.batchNorm(on([1, 2, 3, 4], [1, 4], backend), { runningMean, runningVar, training: true })],
        ['momentum null', () => w.batchNorm(x, { runningMean, runningVar, training: true, momentum: null })],
        ['renorm bias', () => w.batchRenorm(x, { runningMean, runningVar, weight: w.ones([4], { backend }), bias: w.ones([2], { backend }), training: true, rmax: 2, dmax: 1 })],
        ['renorm rmax', () => w.batchRenorm(x, { runningMean, runningVar, weight: w.ones([4], { backend }), bias: w.ones([4], { backend }), training: true, rmax: Number.NaN, dmax: 1 })],
      ];
      for (const [what, call] of bad) expect(call, what).toThrow();
      expect(Array.from(await runningMean.toArray())).toEqual([1, 2, 3, 4]);
      expect(Array.from(await runningVar.toArray())).toEqual([5, 6, 7, 8]);
    }
  });
});
