import { beforeAll, describe, expect, it } from 'vitest';
import { add, assign, fromArray, keep, manualSeed, mul, noGrad, randn, tidy, type Tensor } from '@welford/core';
import { adaptBatchNorm, BatchNorm1d, BatchNorm2d, BatchRenorm2d, ConditionalBatchNorm2d, Flatten, GroupNorm, Linear, preciseBatchNorm, Sequential, smallCnn, type AnyModule, type Module } from '../src/index.ts';
import { expectClose, useGpu } from './helpers.ts';

// Re-estimation of batch-norm statistics: precise batch norm (population statistics over many
// batches) and few-shot adaptation (shrinkage toward the stored statistics), checked against
// statistics computed on the host in float64.

/** Per-channel mean and unbiased variance over every axis but 1 of several (N, C, ...) arrays. */
function hostMoments(arrays: readonly { values: Float32Array; shape: readonly number[] }[]): { mean: number[]; var: number[] } {
  const channels = arrays[0].shape[1];
  const sums = new Float64Array(channels);
  const counts = new Float64Array(channels);
  const each = (f: (c: number, v: number) => void): void => {
    for (const { values, shape } of arrays) {
      const inner = shape.slice(2).reduce((a, b) => a * b, 1);
      values.forEach((v, i) => f(Math.floor(i / inner) % channels, v));
    }
  };
  each((c, v) => {
    sums[c] += v;
    counts[c] += 1;
  });
  const mean = [...sums].map((s, c) => s / counts[c]);
  const m2 = new Float64Array(channels);
  each((c, v) => (m2[c] += (v - mean[c]) ** 2));
  return { mean, var: [...m2].map((s, c) => s / (counts[c] - 1)) };
}

/** Copies of every input the given layers receive, read back later. */
function captureInputs(layers: readonly AnyModule[]): { inputs: Tensor[][]; read(i: number): Promise<{ values: Float32Array; shape: number[] }[]>; remove(): void } {
  const inputs: Tensor[][] = layers.map(() => []);
  const handles = layers.map((layer, i) =>
    layer.registerForwardPreHook((_m: AnyModule, args: unknown[]) => {
      inputs[i].push(keep(noGrad(() => mul(args[0] as Tensor, 1))));
    }),
  );
  return {
    inputs,
    read: (i) => Promise.all(inputs[i].map(async (t) => ({ values: await t.toArray(), shape: [...t.shape] }))),
    remove: () => {
      handles.forEach((h) => h.remove());
      inputs.flat().forEach((t) => t.dispose());
    },
  };
}

/** Every parameter's bytes, to compare bitwise. */
async function parameterBytes(model: AnyModule): Promise<Uint8Array[]> {
  return Promise.all(model.parameters().map(async (p) => new Uint8Array((await p.toArray()).buffer)));
}

/** Every buffer's values (running statistics and counters). */
async function bufferValues(model: AnyModule): Promise<number[][]> {
  return Promise.all(model.buffers().map(async (b) => [...(await b.toArray())]));
}

/** Trains the model's running statistics away from 0 and 1 with one batch (no parameter changes). */
function warmStatistics(model: AnyModule, x: Tensor): void {
  model.train();
  noGrad(() => tidy(() => void model.call(x)));
}

const blend = (w: number, t: readonly number[], s: ArrayLike<number>): number[] => t.map((v, c) => w * v + (1 - w) * s[c]);

describe('preciseBatchNorm', () => {
  beforeAll(async () => {
    await useGpu();
  });

  it('stores the population statistics of each layer input over all batches (small CNN, fused ReLU)', async () => {
    manualSeed(3);
    const model = smallCnn({ inChannels: 1, classes: 3, depth: 2, width: 3 });
    warmStatistics(model, keep(randn([4, 1, 5, 5])));
    // A mixed mode must come back as it was: the model in training, one layer frozen in evaluation.
    model.train();
    model.fc.eval();
    const norms = model.norms as BatchNorm2d[];
    const before = await Promise.all(norms.map(async (bn) => [...(await bn.runningMean!.toArray())]));
    const params = await parameterBytes(model);
    const batches = [5, 4, 3].map((n, i) => keep(tidy(() => add(mul(randn([n, 1, 5, 5]), 1 + i), 0.5 * i))));
    const capture = captureInputs(norms);

    const updates = await preciseBatchNorm(model, batches, { disposeBatches: false });

    expect(updates.map((u) => [u.name, u.type, u.channels, u.samples, u.targetWeight])).toEqual([
      ['bn1', 'BatchNorm2d', 3, 12, 1],
      ['bn2', 'BatchNorm2d', 6, 12, 1],
    ]);
    expect(updates.map((u) => u.values)).toEqual([12 * 25, 12 * 9]);
    for (let i = 0; i < norms.length; i++) {
      expect(capture.inputs[i]).toHaveLength(3);
      const want = hostMoments(await capture.read(i));
      expectClose(await norms[i].runningMean!.toArray(), want.mean, 1e-5, 1e-4, `bn${i + 1} runningMean`);
      expectClose(await norms[i].runningVar!.toArray(), want.var, 1e-5, 1e-4, `bn${i + 1} runningVar`);
      expectClose(updates[i].after.mean, want.mean, 1e-5, 1e-4, `bn${i + 1} reported mean`);
      expectClose(updates[i].before.mean, before[i], 0, 0, `bn${i + 1} reported previous mean`);
      expect(norms[i].numBatchesTracked).toBe(1);
      expect(norms[i].momentum).toBe(0.1);
    }
    expect(updates[0].meanShift).toBeGreaterThan(0);
    expect(await parameterBytes(model)).toEqual(params);
    expect(model.parameters().every((p) => p.grad === null)).toBe(true);
    expect(model.modules().filter((m) => !m.training)).toEqual([model.fc]);
    capture.remove();
    batches.forEach((b) => b.dispose());
    model.dispose();
  });

  it('feeds later layers the batch-normalized output of earlier ones (computed on the host)', async () => {
    const first = new BatchNorm1d(2);
    const second = new BatchNorm1d(2);
    assign(first.weight!, Float32Array.of(2, -1));
    assign(first.bias!, Float32Array.of(0.5, 3));
    const model = new Sequential(first, second);
    const rows = [
      [[1, 10], [2, 14], [4, 9], [7, 11]],
      [[-3, 12], [0, 8], [5, 15]],
    ];
    const batches = rows.map((b) => fromArray(b.flat(), [b.length, 2]));
    await preciseBatchNorm(model, batches);
    expect(batches.every((b) => b.isDisposed)).toBe(true);

    const all = rows.flat();
    const stats = (xs: number[]) => {
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      return { m, biased: xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length, unbiased: xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1) };
    };
    const gamma = [2, -1];
    const beta = [0.5, 3];
    // Each batch normalized by its own mean and biased variance, then the affine.
    const normalized = rows.flatMap((b) => b.map((row) => row.map((v, c) => {
      const s = stats(b.map((r) => r[c]));
      return gamma[c] * ((v - s.m) / Math.sqrt(s.biased + 1e-5)) + beta[c];
    })));
    for (const [layer, data] of [[first, all], [second, normalized]] as const) {
      const want = [0, 1].map((c) => stats(data.map((r) => r[c])));
      expectClose(await layer.runningMean!.toArray(), want.map((s) => s.m), 1e-5, 1e-5, 'runningMean');
      expectClose(await layer.runningVar!.toArray(), want.map((s) => s.unbiased), 1e-5, 1e-5, 'runningVar');
    }
    model.dispose();
  });

  it('handles bias-corrected batch norm, batch renorm and conditional batch norm', async () => {
    manualSeed(5);
    const corrected = new BatchNorm2d(2, { biasCorrection: true, momentum: 0.2 });
    const renorm = new BatchRenorm2d(2);
    const model = new Sequential(corrected, renorm);
    warmStatistics(model, keep(add(randn([3, 2, 2, 2]), 1)));
    const batches = [keep(mul(randn([3, 2, 3, 2]), 2)), keep(add(randn([2, 2, 3, 2]), -1))];
    const capture = captureInputs([corrected, renorm]);
    await preciseBatchNorm(model, batches, { disposeBatches: false });
    const scale = 1 - 0.8 ** 1;
    for (const [i, layer] of [corrected, renorm].entries()) {
      const want = hostMoments(await capture.read(i));
      const s = i === 0 ? scale : 1;
      // What evaluation uses is the population statistics; the buffers hold them times the correction.
      expectClose(await layer.runningMean!.toArray(), want.mean.map((v) => v * s), 1e-5, 1e-4, `layer ${i} runningMean`);
      expectClose(await layer.runningVar!.toArray(), want.var.map((v) => v * s), 1e-5, 1e-4, `layer ${i} runningVar`);
    }
    const used = corrected.correctedRunningStats();
    expectClose(await used.var.toArray(), hostMoments(await capture.read(0)).var, 1e-5, 1e-4, 'corrected runningVar');
    used.mean.dispose();
    used.var.dispose();
    capture.remove();
    batches.forEach((b) => b.dispose());
    model.dispose();

    // ConditionalBatchNorm2d: its child bn is re-estimated; the class embedding is a parameter and stays.
    const conditional = new ConditionalBatchNorm2d(2, 3);
    const labels = fromArray([0, 2, 1], [3]);
    const x = keep(add(mul(randn([3, 2, 2, 2]), 3), 1));
    const embed = await conditional.embed.weight.toArray();
    const updates = await preciseBatchNorm(conditional, [x], { forward: (b) => conditional.call(b, labels), disposeBatches: false });
    expect(updates.map((u) => u.name)).toEqual(['bn']);
    expectClose(await conditional.bn.runningMean!.toArray(), hostMoments([{ values: await x.toArray(), shape: [3, 2, 2, 2] }]).mean, 1e-5, 1e-4, 'conditional bn mean');
    expect(await conditional.embed.weight.toArray()).toEqual(embed);
    conditional.dispose();
  });
});

describe('adaptBatchNorm', () => {
  beforeAll(async () => {
    await useGpu();
  });

  /** Two BatchNorm1d in a row with set affine and running statistics, and 6 samples of 3 channels. */
  function twoLayers(): { model: Sequential; first: BatchNorm1d; second: BatchNorm1d; rows: number[][]; source: number[][] } {
    const first = new BatchNorm1d(3);
    const second = new BatchNorm1d(3);
    assign(first.weight!, Float32Array.of(1.5, -0.5, 2));
    assign(first.bias!, Float32Array.of(0.25, 1, -2));
    const source = [[0.5, -1, 2], [4, 0.25, 9], [-0.5, 0.75, 0], [1.5, 3, 0.5]];
    assign(first.runningMean!, Float32Array.from(source[0]));
    assign(first.runningVar!, Float32Array.from(source[1]));
    assign(second.runningMean!, Float32Array.from(source[2]));
    assign(second.runningVar!, Float32Array.from(source[3]));
    const rows = [[1, 2, 3], [2, -1, 5], [0.5, 0, 4], [3, 1, 7], [-1, 2.5, 6], [2.5, 0.5, 2]];
    return { model: new Sequential(first, second), first, second, rows, source };
  }

  /** The adapted statistics of both layers for prior strength k, on the host. */
  function hostAdapted(rows: number[][], source: number[][], k: number): { w: number; first: number[][]; second: number[][] } {
    const n = rows.length;
    const w = k === Infinity ? 0 : n / (n + k);
    const moments = (data: number[][]) => hostMoments([{ values: Float32Array.from(data.flat()), shape: [data.length, 3] }]);
    const t1 = moments(rows);
    const a1 = [blend(w, t1.mean, source[0]), blend(w, t1.var, source[1])];
    const gamma = [1.5, -0.5, 2];
    const beta = [0.25, 1, -2];
    // The second layer sees the first normalized with its adapted statistics, as evaluation will.
    const mid = rows.map((r) => r.map((v, c) => gamma[c] * ((v - a1[0][c]) / Math.sqrt(a1[1][c] + 1e-5)) + beta[c]));
    const t2 = moments(mid);
    return { w, first: a1, second: [blend(w, t2.mean, source[2]), blend(w, t2.var, source[3])] };
  }

  it('blends target and source statistics by w = n/(n + k), layer after layer, as the host computes', async () => {
    for (const k of [4, 0, 1e6]) {
      const { model, first, second, rows, source } = twoLayers();
      model.train();
      const params = await parameterBytes(model);
      const x = fromArray(rows.flat(), [6, 3]);
      const updates = await adaptBatchNorm(model, x, { priorStrength: k });
      const want = hostAdapted(rows, source, k);
      expect(updates.map((u) => [u.name, u.samples, u.values, u.targetWeight])).toEqual([
        ['0', 6, 6, want.w],
        ['1', 6, 6, want.w],
      ]);
      expectClose(await first.runningMean!.toArray(), want.first[0], 1e-5, 1e-5, `k=${k} first mean`);
      expectClose(await first.runningVar!.toArray(), want.first[1], 1e-5, 1e-5, `k=${k} first var`);
      expectClose(await second.runningMean!.toArray(), want.second[0], 1e-5, 1e-5, `k=${k} second mean`);
      expectClose(await second.runningVar!.toArray(), want.second[1], 1e-5, 1e-5, `k=${k} second var`);
      expectClose(updates[0].before.var, source[1], 0, 0, 'reported source var');
      expectClose(updates[1].after.mean, want.second[0], 1e-5, 1e-5, 'reported adapted mean');
      if (k === 0) expectClose(updates[0].target.mean, updates[0].after.mean, 0, 0, 'k = 0: pure target mean');
      if (k === 1e6) expectClose(await second.runningVar!.toArray(), source[3], 1e-4, 1e-4, 'large k: nearly the source');
      expect(await parameterBytes(model)).toEqual(params);
      expect(model.parameters().every((p) => p.grad === null)).toBe(true);
      expect(model.modules().every((m) => m.training)).toBe(true);
      expect(first.numBatchesTracked).toBe(0);
      expect(x.isDisposed).toBe(false);
      x.dispose();
      model.dispose();
    }
  });

  it('k = Infinity keeps the source statistics bit for bit', async () => {
    const { model, rows } = twoLayers();
    const buffers = await bufferValues(model);
    const x = fromArray(rows.flat(), [6, 3]);
    const updates = await adaptBatchNorm(model, x, { priorStrength: Infinity });
    expect(updates.every((u) => u.targetWeight === 0 && u.meanShift === 0 && u.stdRatio === 1)).toBe(true);
    expect(await bufferValues(model)).toEqual(buffers);
    x.dispose();
    model.dispose();
  });

  it('on a small CNN: the buffers are the formula applied to what each layer received', async () => {
    manualSeed(7);
    const model = smallCnn({ inChannels: 1, classes: 3, depth: 2, width: 3 });
    warmStatistics(model, keep(randn([4, 1, 5, 5])));
    model.eval();
    const norms = model.norms as BatchNorm2d[];
    const sources = await Promise.all(norms.map(async (bn) => ({ mean: await bn.runningMean!.toArray(), var: await bn.runningVar!.toArray() })));
    const params = await parameterBytes(model);
    const x = keep(tidy(() => add(mul(randn([5, 1, 5, 5]), 0.6), 0.8)));
    const capture = captureInputs(norms);
    const updates = await adaptBatchNorm(model, { x }, { priorStrength: 8 });
    const w = 5 / 13;
    for (let i = 0; i < norms.length; i++) {
      const target = hostMoments(await capture.read(i));
      expectClose(updates[i].target.var, target.var, 1e-5, 1e-4, `bn${i + 1} target var`);
      expectClose(await norms[i].runningMean!.toArray(), blend(w, target.mean, sources[i].mean), 1e-5, 1e-4, `bn${i + 1} runningMean`);
      expectClose(await norms[i].runningVar!.toArray(), blend(w, target.var, sources[i].var), 1e-5, 1e-4, `bn${i + 1} runningVar`);
    }
    expect(await parameterBytes(model)).toEqual(params);
    expect(model.training).toBe(false);
    capture.remove();
    x.dispose();
    model.dispose();
  });
});

describe('re-estimation refuses bad input and then changes nothing', () => {
  beforeAll(async () => {
    await useGpu();
  });

  /** BatchNorm2d, then flatten and BatchNorm1d: a batch of one passes the first and fails the second. */
  function twoStage(): Module {
    const model = new Sequential(new BatchNorm2d(2), new Flatten(), new BatchNorm1d(8));
    assign(model.buffers()[0], Float32Array.of(0.5, -0.5));
    return model;
  }

  it('names the problem: no batch norm, no samples, a bad prior, one value per channel', async () => {
    const plain = new Sequential(new Linear(3, 2), new GroupNorm(1, 2));
    const x = fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
    await expect(adaptBatchNorm(plain, x, { priorStrength: 1 })).rejects.toThrow('adaptBatchNorm: Sequential has no batch-norm layer with running statistics');
    await expect(preciseBatchNorm(new BatchNorm1d(3, { trackRunningStats: false }), [x])).rejects.toThrow('preciseBatchNorm: BatchNorm1d has no batch-norm layer with running statistics');
    const bn = new BatchNorm1d(3);
    await expect(adaptBatchNorm(bn, fromArray([], [0, 3]), { priorStrength: 1 })).rejects.toThrow('adaptBatchNorm: samples must hold at least one sample along the first axis, got shape [0, 3]');
    await expect(adaptBatchNorm(bn, x, { priorStrength: -1 })).rejects.toThrow('adaptBatchNorm: priorStrength must be a number >= 0 (the samples the stored statistics are worth; Infinity keeps them), got -1');
    await expect(adaptBatchNorm(bn, x, {} as { priorStrength: number })).rejects.toThrow('priorStrength must be a number >= 0');
    await expect(adaptBatchNorm(bn, fromArray([1, 2, 3], [1, 3]), { priorStrength: 1 })).rejects.toThrow('adaptBatchNorm: an input of shape [1, 3] has one value per channel; estimating a variance needs more than one');
    await expect(preciseBatchNorm(bn, [])).rejects.toThrow('preciseBatchNorm: batches gave no batch');
    await expect(preciseBatchNorm(bn, [{ y: x } as unknown as Tensor])).rejects.toThrow('preciseBatchNorm: expected a tensor or a batch with a tensor x, got an object with keys y');
    const fresh = new BatchNorm2d(2, { biasCorrection: true });
    await expect(preciseBatchNorm(fresh, [x])).rejects.toThrow('preciseBatchNorm: the model (BatchNorm2d) uses bias-corrected running statistics and has seen no training batch');
    expect(await bn.runningVar!.toArray()).toEqual(Float32Array.of(1, 1, 1));
    [plain, bn, fresh].forEach((m) => m.dispose());
    x.dispose();
  });

  it('a failure after the first layer leaves every buffer as it was, the hooks gone and the modes restored', async () => {
    manualSeed(11);
    const model = twoStage();
    model.train();
    const buffers = await bufferValues(model);
    const one = keep(randn([1, 2, 2, 2]));
    await expect(adaptBatchNorm(model, one, { priorStrength: 2 })).rejects.toThrow('2 (BatchNorm1d): adaptBatchNorm: an input of shape [1, 8] has one value per channel');
    const batches = [keep(randn([3, 2, 2, 2])), keep(randn([1, 2, 2, 2]))];
    await expect(preciseBatchNorm(model, batches, { disposeBatches: false })).rejects.toThrow('2 (BatchNorm1d): preciseBatchNorm: an input of shape [1, 8] has one value per channel; normalizing with batch statistics needs more than one');
    await expect(preciseBatchNorm(model, [batches[0]], { disposeBatches: false, forward: () => { throw new Error('the data went away'); } })).rejects.toThrow('the data went away');
    expect(await bufferValues(model)).toEqual(buffers);
    expect(model.modules().every((m) => m.training)).toBe(true);
    // No hook is left: a training call updates the running mean as usual.
    noGrad(() => tidy(() => void model.call(batches[0])));
    expect(await model.buffers()[0].toArray()).not.toEqual(Float32Array.from(buffers[0]));
    [one, ...batches].forEach((t) => t.dispose());
    model.dispose();
  });

  it('a layer the forward pass skips, or calls twice, is an error', async () => {
    const first = new BatchNorm1d(2);
    const second = new BatchNorm1d(2);
    const model = new Sequential(first, second);
    const x = fromArray([1, 2, 3, 5, 4, 4], [3, 2]);
    await expect(preciseBatchNorm(model, [x], { forward: (b) => first.call(b), disposeBatches: false })).rejects.toThrow('preciseBatchNorm: no batch reached 1 (BatchNorm1d); their statistics cannot be estimated');
    await expect(adaptBatchNorm(model, x, { priorStrength: 0, forward: (b) => model.call(first.call(b)) })).rejects.toThrow('0 (BatchNorm1d): adaptBatchNorm: the forward pass called this layer twice');
    expect(await first.runningMean!.toArray()).toEqual(Float32Array.of(0, 0));
    x.dispose();
    model.dispose();
  });
});
