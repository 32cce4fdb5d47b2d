import { beforeAll, describe, expect, it } from 'vitest';
import { add, fromArray, mul, randn, tidy, type Tensor } from '@welford/core';
import { BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm2d, LayerNorm, Sequential } from '../src/index.ts';
import { expectClose, useGpu } from './helpers.ts';

// Batch norm's welford-specific behaviour (bias-corrected running averages), mode switching,
// state names, descriptions and errors. The PyTorch comparisons are in norm_layers.test.ts.

/** Per-channel mean and unbiased variance of an (N, C, H, W) array on the host, in float64. */
function channelStats(x: Float32Array, [n, c, h, w]: readonly number[]): { mean: number[]; var: number[] } {
  const mean: number[] = [];
  const variance: number[] = [];
  const m = n * h * w;
  for (let ch = 0; ch < c; ch++) {
    const values: number[] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < h * w; j++) values.push(x[(i * c + ch) * h * w + j]);
    const mu = values.reduce((a, b) => a + b, 0) / m;
    mean.push(mu);
    variance.push(values.reduce((a, b) => a + (b - mu) ** 2, 0) / (m - 1));
  }
  return { mean, var: variance };
}

describe('BatchNorm biasCorrection', () => {
  beforeAll(async () => {
    await useGpu();
  });

  it('starts at zero and divides the EMA by 1 − (1 − momentum)^t', async () => {
    const momentum = 0.2;
    const bn = new BatchNorm2d(3, { momentum, biasCorrection: true });
    const shape = [2, 3, 3, 2];
    expectClose(await bn.runningMean!.toArray(), [0, 0, 0], 0, 0, 'initial runningMean');
    expectClose(await bn.runningVar!.toArray(), [0, 0, 0], 0, 0, 'initial runningVar');
    // Before any batch there is no estimate: PyTorch's initial statistics.
    const t0 = bn.correctedRunningStats();
    expectClose(await t0.mean.toArray(), [0, 0, 0], 0, 0, 'corrected mean at t=0');
    expectClose(await t0.var.toArray(), [1, 1, 1], 0, 0, 'corrected var at t=0');
    t0.mean.dispose();
    t0.var.dispose();

    const ema = { mean: [0, 0, 0], var: [0, 0, 0] };
    for (let t = 1; t <= 3; t++) {
      const x = tidy(() => add(mul(randn(shape), 1 + t), t));
      tidy(() => bn.call(x));
      const s = channelStats(await x.toArray(), shape);
      for (let c = 0; c < 3; c++) {
        ema.mean[c] = (1 - momentum) * ema.mean[c] + momentum * s.mean[c];
        ema.var[c] = (1 - momentum) * ema.var[c] + momentum * s.var[c];
      }
      x.dispose();
      const correction = 1 - (1 - momentum) ** t;
      expectClose(await bn.runningMean!.toArray(), ema.mean, 1e-5, 1e-5, `raw runningMean t=${t}`);
      const { mean, var: variance } = bn.correctedRunningStats();
      expectClose(await mean.toArray(), ema.mean.map((v) => v / correction), 1e-5, 1e-5, `corrected mean t=${t}`);
      expectClose(await variance.toArray(), ema.var.map((v) => v / correction), 1e-5, 1e-5, `corrected var t=${t}`);
      mean.dispose();
      variance.dispose();
    }
    expect(bn.numBatchesTracked).toBe(3);

    // Evaluation normalizes with the corrected statistics.
    const correction = 1 - (1 - momentum) ** 3;
    const x = fromArray(Array.from({ length: 3 * 4 }, (_, i) => (i % 5) - 1.5), [1, 3, 2, 2]);
    bn.eval();
    const y = await tidy(() => bn.call(x)).toArray();
    const xs = await x.toArray();
    const want = Array.from(xs, (v, i) => {
      const c = Math.floor(i / 4);
      return (v - ema.mean[c] / correction) / Math.sqrt(ema.var[c] / correction + 1e-5);
    });
    expectClose(y, want, 1e-4, 1e-4, 'eval output');
    x.dispose();
    bn.dispose();
  });

  it('recovers a constant batch mean that the raw EMA underestimates', async () => {
    const bn = new BatchNorm2d(2, { momentum: 0.1, biasCorrection: true });
    // Every batch has channel means 3 and −2.
    const base = [1, -1, 0.5, -0.5];
    const data = [...base.map((v) => v + 3), ...base.map((v) => v - 2), ...base.map((v) => 3 - v), ...base.map((v) => -2 - v)];
    for (let t = 0; t < 4; t++) tidy(() => bn.call(fromArray(data, [2, 2, 2, 2])));
    const raw = await bn.runningMean!.toArray();
    expectClose(raw, [3 * (1 - 0.9 ** 4), -2 * (1 - 0.9 ** 4)], 1e-5, 1e-5, 'raw EMA');
    expect(raw[0]).toBeLessThan(1.1);
    const { mean, var: variance } = bn.correctedRunningStats();
    expectClose(await mean.toArray(), [3, -2], 1e-5, 1e-5, 'corrected mean');
    mean.dispose();
    variance.dispose();
    bn.resetRunningStats();
    expectClose(await bn.runningVar!.toArray(), [0, 0], 0, 0, 'reset variance with bias correction');
    expect(bn.numBatchesTracked).toBe(0);
    bn.dispose();
  });

  it('rejects biasCorrection without a numeric momentum or running statistics', () => {
    expect(() => new BatchNorm2d(2, { momentum: null, biasCorrection: true })).toThrow(/BatchNorm2d: biasCorrection needs a numeric momentum; momentum null is a cumulative average/);
    expect(() => new BatchNorm2d(2, { trackRunningStats: false, biasCorrection: true })).toThrow(/BatchNorm2d: biasCorrection .* needs trackRunningStats: true/);
    expect(() => new BatchNorm2d(2, { momentum: 0, biasCorrection: true })).toThrow(/momentum > 0/);
  });
});

describe('BatchNorm modes, state and errors', () => {
  beforeAll(async () => {
    await useGpu();
  });

  it('switches between batch and running statistics through a parent Sequential', async () => {
    const bn = new BatchNorm2d(2);
    const model = new Sequential(bn, new GroupNorm(1, 2));
    const x = fromArray(Array.from({ length: 16 }, (_, i) => i * 0.5 - 3), [2, 2, 2, 2]);
    model.eval();
    expect(bn.training).toBe(false);
    tidy(() => model.call(x));
    expect(bn.numBatchesTracked).toBe(0);
    expectClose(await bn.runningMean!.toArray(), [0, 0], 0, 0, 'running mean untouched in eval');
    // Eval with the initial statistics (0, 1) is x / sqrt(1 + eps).
    const y = await tidy(() => bn.call(x)).toArray();
    expectClose(y, Array.from(await x.toArray(), (v) => v / Math.sqrt(1 + 1e-5)), 1e-5, 1e-5, 'eval output');
    model.train();
    expect(bn.training).toBe(true);
    tidy(() => model.call(x));
    expect(bn.numBatchesTracked).toBe(1);
    const mean = channelStats(await x.toArray(), [2, 2, 2, 2]).mean;
    expectClose(await bn.runningMean!.toArray(), mean.map((m) => 0.1 * m), 1e-5, 1e-5, 'running mean after one batch');
    x.dispose();
    model.dispose();
  });

  it('uses batch statistics in evaluation when not tracking running statistics', async () => {
    const bn = new BatchNorm1d(2, { trackRunningStats: false }).eval();
    const x = fromArray([1, 10, 3, 20, 5, 30], [3, 2]);
    const y = await tidy(() => bn.call(x)).toArray();
    const s = Math.sqrt(8 / 3 + 1e-5);
    const s2 = Math.sqrt(200 / 3 + 1e-5);
    expectClose(y, [-2 / s, -10 / s2, 0, 0, 2 / s, 10 / s2], 1e-5, 1e-5, 'batch statistics in eval');
    expect(bn.numBatchesTracked).toBeNull();
    x.dispose();
    bn.dispose();
  });

  it('registers state under PyTorch names, with the counter as int64', () => {
    const bn = new BatchNorm2d(4);
    expect(Object.keys(bn.stateDict())).toEqual(['weight', 'bias', 'runningMean', 'runningVar', 'numBatchesTracked']);
    expect(bn.stateEntries().find((e) => e.name === 'numBatchesTracked')?.dtype).toBe('int64');
    expect([...bn.getBuffer('numBatchesTracked')!.shape]).toEqual([]);
    bn.dispose();
    const plain = new BatchNorm2d(4, { trackRunningStats: false, affine: false });
    expect(Object.keys(plain.stateDict())).toEqual([]);
    expect(plain.getBuffer('runningMean')).toBeNull();
    plain.dispose();
    const inorm = new InstanceNorm2d(3, { trackRunningStats: true });
    expect(Object.keys(inorm.stateDict())).toEqual(['runningMean', 'runningVar', 'numBatchesTracked']);
    inorm.dispose();
  });

  it('resets parameters and running statistics like PyTorch', async () => {
    const bn = new BatchNorm1d(2);
    tidy(() => bn.call(fromArray([1, 2, 3, 5], [2, 2])));
    await bn.loadStateDict({ weight: { shape: [2], data: Float32Array.of(3, 4) }, bias: { shape: [2], data: Float32Array.of(1, 1) } }, { strict: false });
    bn.resetParameters();
    expectClose(await bn.weight!.toArray(), [1, 1], 0, 0, 'weight');
    expectClose(await bn.bias!.toArray(), [0, 0], 0, 0, 'bias');
    expectClose(await bn.runningMean!.toArray(), [0, 0], 0, 0, 'runningMean');
    expectClose(await bn.runningVar!.toArray(), [1, 1], 0, 0, 'runningVar');
    expect(bn.numBatchesTracked).toBe(0);
    bn.dispose();
  });

  it('describes itself like PyTorch', () => {
    const layers = [new BatchNorm2d(16), new BatchNorm1d(4, { momentum: null, eps: 1e-3 }), new GroupNorm(3, 6), new LayerNorm([3, 4]), new InstanceNorm2d(3)];
    expect(layers.map(String)).toEqual([
      'BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=true, trackRunningStats=true)',
      'BatchNorm1d(4, eps=0.001, momentum=null, affine=true, trackRunningStats=true)',
      'GroupNorm(3, 6, eps=1e-05, affine=true)',
      'LayerNorm([3, 4], eps=1e-05, elementwiseAffine=true)',
      'InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=false, trackRunningStats=false)',
    ]);
    for (const l of layers) l.dispose();
  });

  it('gives the core error for one value per channel, with the layer path, and changes no state', async () => {
    const bn = new BatchNorm1d(4);
    const model = new Sequential(bn);
    const x = fromArray([1, 2, 3, 4], [1, 4]);
    expect(() => tidy(() => model.call(x))).toThrow(/^0 \(BatchNorm1d\): batchNorm: Expected more than 1 value per channel when training, got input size \[1, 4\]/);
    expect(bn.numBatchesTracked).toBe(0);
    expectClose(await bn.runningMean!.toArray(), [0, 0, 0, 0], 0, 0, 'runningMean');
    model.eval();
    expect(() => tidy(() => model.call(x))).not.toThrow();
    x.dispose();
    model.dispose();
  });

  it('rejects bad inputs and options with clear messages', () => {
    const bn = new BatchNorm2d(3);
    const bn1 = new BatchNorm1d(4);
    const gn = new GroupNorm(2, 6);
    const ln = new LayerNorm([3, 4]);
    const inorm = new InstanceNorm2d(3);
    const check = (fn: () => unknown, re: RegExp): void => {
      expect(() => tidy(fn)).toThrow(re);
    };
    check(() => bn.call(randn([2, 4, 3, 3])), /BatchNorm2d: expected input with 3 channels \[N, 3, H, W\], got 4 channels in input of shape \[2, 4, 3, 3\]/);
    check(() => bn.call(randn([2, 3, 3])), /BatchNorm2d: expected a 4-D input \[N, 3, H, W\], got 3-D input of shape \[2, 3, 3\]/);
    check(() => bn1.call(randn([2, 4, 3, 3])), /BatchNorm1d: expected a 2-D or 3-D input \[N, 4\] or \[N, 4, L\], got 4-D input/);
    check(() => gn.call(randn([2, 4, 3])), /GroupNorm: expected input with 6 channels/);
    check(() => ln.call(randn([2, 3, 5])), /LayerNorm: expected input of shape \[\*, 3, 4\] \(normalizedShape=\[3, 4\]\), got \[2, 3, 5\]/);
    check(() => inorm.call(randn([2, 3, 4])), /InstanceNorm2d: expected a 4-D input \[N, 3, H, W\]/);
    check(() => inorm.call(randn([2, 3, 1, 1])), /instanceNorm: Expected more than 1 spatial element when training, got input size \[2, 3, 1, 1\]/);
    // Constructors that throw allocate nothing.
    check(() => new GroupNorm(4, 6), /GroupNorm: num_channels must be divisible by num_groups \(numChannels=6, numGroups=4\)/);
    check(() => new LayerNorm([]), /LayerNorm: normalizedShape must have at least one dimension/);
    check(() => new BatchNorm2d(0), /BatchNorm2d: numFeatures must be a positive integer, got 0/);
    check(() => new BatchNorm2d(3, { eps: -1 }), /BatchNorm2d: eps must be a positive finite number, got -1/);
    check(() => new BatchNorm2d(3, { momentum: 1.5 }), /BatchNorm2d: momentum must be a finite number in \[0, 1\], got 1.5/);
    check(() => new InstanceNorm2d(3, { momentum: null as unknown as number }), /InstanceNorm2d: momentum must be a number in \[0, 1\], got null/);
    check(() => new BatchNorm2d(3, { affine: 'yes' as unknown as boolean }), /BatchNorm2d: affine must be a boolean, got yes/);
    for (const m of [bn, bn1, gn, ln, inorm]) m.dispose();
  });
});

describe('LayerNorm without bias', () => {
  beforeAll(async () => {
    await useGpu();
  });

  it('learns only the scale', async () => {
    const ln = new LayerNorm(4, { bias: false });
    expect(Object.keys(ln.stateDict())).toEqual(['weight']);
    await ln.loadStateDict({ weight: { shape: [4], data: Float32Array.of(1, 2, 3, 4) } });
    const x = fromArray([1, 2, 3, 4, -1, 0, 1, 2], [2, 4]);
    const y: Tensor = tidy(() => ln.call(x));
    const s = Math.sqrt(1.25 + 1e-5);
    const xhat = [-1.5, -0.5, 0.5, 1.5].map((v) => v / s);
    expectClose(await y.toArray(), [...xhat, ...xhat].map((v, i) => v * ((i % 4) + 1)), 1e-5, 1e-5, 'output');
    y.dispose();
    x.dispose();
    ln.dispose();
  });
});
