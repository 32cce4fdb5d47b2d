import { beforeAll, describe, expect, it } from 'vitest';
import { fromArray, randn, tidy, type Tensor } from '@welford/core';
import {
  BatchNorm2d,
  BatchRenorm2d,
  ConditionalBatchNorm2d,
  Conv2d,
  createNorm,
  GroupNorm,
  Identity,
  InstanceNorm2d,
  isNormKind,
  Linear,
  NORM_KINDS,
  removeSpectralNorm,
  spectralNorm,
} from '../src/index.ts';
import { expectClose, useGpu } from './helpers.ts';

// Batch renormalization's warm-up, the norm factory, spectral norm's bookkeeping and
// conditional batch norm's initialisation. The PyTorch comparisons are in norm_layers.test.ts.

describe('BatchRenorm2d', () => {
  beforeAll(async () => {
    await useGpu();
  });

  it('warms the limits up linearly over warmupSteps training batches', () => {
    const brn = new BatchRenorm2d(2, { rmax: 3, dmax: 5, warmupSteps: 4 });
    const seen: { rmax: number; dmax: number }[] = [brn.currentLimits()];
    for (let t = 0; t < 5; t++) {
      tidy(() => brn.call(randn([2, 2, 2, 2])));
      seen.push(brn.currentLimits());
    }
    expect(seen).toEqual([
      { rmax: 1, dmax: 0 },
      { rmax: 1.5, dmax: 1.25 },
      { rmax: 2, dmax: 2.5 },
      { rmax: 2.5, dmax: 3.75 },
      { rmax: 3, dmax: 5 },
      { rmax: 3, dmax: 5 },
    ]);
    brn.eval();
    tidy(() => brn.call(randn([2, 2, 2, 2])));
    expect(brn.numBatchesTracked).toBe(5);
    expect(new BatchRenorm2d(2).currentLimits()).toEqual({ rmax: 3, dmax: 5 });
    brn.dispose();
  });

  it('is batch norm at the start of warm-up (r = 1, d = 0), whatever the running statistics', async () => {
    const state = {
      weight: { shape: [2], data: Float32Array.of(1.5, 0.5) },
      bias: { shape: [2], data: Float32Array.of(0.2, -0.1) },
      runningMean: { shape: [2], data: Float32Array.of(4, -3) },
      runningVar: { shape: [2], data: Float32Array.of(0.1, 9) },
    };
    const brn = new BatchRenorm2d(2, { warmupSteps: 10, rmax: 2, dmax: 1 });
    const bn = new BatchNorm2d(2);
    await brn.loadStateDict({ ...state, numBatchesTracked: { shape: [], data: Float32Array.of(0) } });
    await bn.loadStateDict({ ...state, numBatchesTracked: { shape: [], data: Float32Array.of(0) } });
    const x = randn([3, 2, 2, 3]);
    const [a, b] = tidy(() => [brn.call(x), bn.call(x)]);
    expectClose(await a.toArray(), await b.toArray(), 1e-5, 1e-5, 'output');
    expectClose(await brn.runningVar.toArray(), await bn.runningVar!.toArray(), 1e-6, 1e-6, 'runningVar');
    for (const t of [a, b, x]) t.dispose();
    brn.dispose();
    bn.dispose();
  });

  it('keeps its constant scale out of the state without affine, and describes itself', () => {
    const brn = new BatchRenorm2d(3, { affine: false, warmupSteps: 2 });
    expect(Object.keys(brn.stateDict())).toEqual(['runningMean', 'runningVar', 'numBatchesTracked']);
    expect(brn.parameters()).toEqual([]);
    expect(String(brn)).toBe('BatchRenorm2d(3, eps=1e-05, momentum=0.1, rmax=3, dmax=5, warmupSteps=2, affine=false)');
    brn.dispose();
  });

  it('rejects bad limits', () => {
    expect(() => new BatchRenorm2d(2, { rmax: 0.5 })).toThrow(/BatchRenorm2d: rmax must be a finite number in \[1, Infinity\], got 0.5/);
    expect(() => new BatchRenorm2d(2, { dmax: -1 })).toThrow(/BatchRenorm2d: dmax must be a finite number in \[0, Infinity\], got -1/);
    expect(() => new BatchRenorm2d(2, { warmupSteps: 1.5 })).toThrow(/BatchRenorm2d: warmupSteps must be a non-negative integer, got 1.5/);
  });
});

describe('createNorm', () => {
  beforeAll(async () => {
    await useGpu();
  });

  it('builds each kind for (N, C, H, W) activations', async () => {
    expect([...NORM_KINDS]).toEqual(['batch', 'group', 'layer', 'instance', 'batchrenorm', 'none']);
    expect(NORM_KINDS.every(isNormKind)).toBe(true);
    expect(isNormKind('batchnorm')).toBe(false);
    expect(isNormKind(3)).toBe(false);
    const x = randn([2, 16, 3, 3]);
    const layers = Object.fromEntries(NORM_KINDS.map((k) => [k, createNorm(k, 16, { eps: 1e-3 })]));
    expect(layers.batch).toBeInstanceOf(BatchNorm2d);
    expect((layers.group as GroupNorm).numGroups).toBe(8);
    expect((layers.layer as GroupNorm).numGroups).toBe(1);
    expect((layers.layer as GroupNorm).eps).toBe(1e-3);
    expect(layers.instance).toBeInstanceOf(InstanceNorm2d);
    expect((layers.instance as InstanceNorm2d).affine).toBe(true);
    expect(layers.batchrenorm).toBeInstanceOf(BatchRenorm2d);
    expect(layers.none).toBeInstanceOf(Identity);
    for (const [kind, layer] of Object.entries(layers)) {
      const y = tidy(() => layer.call(x));
      expect([...y.shape], kind).toEqual([2, 16, 3, 3]);
      if (kind === 'none') expect(y).toBe(x);
      else y.dispose();
    }
    expect((createNorm('group', 12, { groups: 4 }) as GroupNorm).numGroups).toBe(4);
    expect((createNorm('batch', 4, { momentum: null }) as BatchNorm2d).momentum).toBeNull();
    x.dispose();
    for (const l of Object.values(layers)) l.dispose();
  });

  it('names both numbers when the groups do not divide the channels', () => {
    expect(() => createNorm('group', 12)).toThrow(/createNorm: 'group' norm needs the channel count to be divisible by groups, got 12 channels and 8 groups/);
    expect(() => createNorm('instance', 4, { momentum: null })).toThrow(/createNorm: momentum null \(a cumulative average\) is only for 'batch' norm, got it for 'instance'/);
    expect(() => createNorm('unknown' as 'batch', 4)).toThrow(/createNorm: unknown norm kind "unknown"; expected one of batch, group, layer, instance, batchrenorm, none/);
  });
});

describe('spectralNorm', () => {
  beforeAll(async () => {
    await useGpu();
  });

  it('moves weight to weightOrig and adds unit u, v buffers', async () => {
    const linear = new Linear(5, 3);
    const weight = linear.weight;
    expect(spectralNorm(linear)).toBe(linear);
    expect(linear.getParameter('weightOrig')).toBe(weight);
    expect(Object.keys(linear.stateDict())).toEqual(['bias', 'weightOrig', 'weightU', 'weightV']);
    expect(linear.namedParameters().map(([n]) => n)).toEqual(['bias', 'weightOrig']);
    const u = await linear.getBuffer('weightU')!.toArray();
    const v = await linear.getBuffer('weightV')!.toArray();
    expect([u.length, v.length]).toEqual([3, 5]);
    expectClose([Math.hypot(...u), Math.hypot(...v)], [1, 1], 1e-5, 1e-5, 'norms');
    expect(() => spectralNorm(linear)).toThrow(/spectralNorm: Linear already has a weight transform/);
    linear.dispose();
    const conv = spectralNorm(new Conv2d(2, 4, 3));
    expect([...conv.getBuffer('weightU')!.shape, ...conv.getBuffer('weightV')!.shape]).toEqual([4, 18]);
    conv.dispose();
    expect(() => spectralNorm(new Linear(2, 2), { nPowerIterations: 0 })).toThrow(/spectralNorm: nPowerIterations must be a positive integer, got 0/);
  });

  it('converges to the largest singular value in training and leaves u, v alone in evaluation', async () => {
    const linear = spectralNorm(new Linear(2, 3));
    // Singular values 3 and 1: W / σ maps e1 to (1, 0, 0).
    await linear.loadStateDict({ weightOrig: { shape: [3, 2], data: Float32Array.of(3, 0, 0, 1, 0, 0) } }, { strict: false });
    const x = fromArray([1, 0, 0, 1], [2, 2]);
    for (let i = 0; i < 12; i++) tidy(() => linear.call(x));
    linear.eval();
    const u = await linear.getBuffer('weightU')!.toArray();
    const bias = await linear.bias!.toArray();
    const y = await tidy(() => linear.call(x)).toArray();
    expectClose(y, [1 + bias[0], bias[1], bias[2], bias[0], 1 / 3 + bias[1], bias[2]], 1e-4, 1e-4, 'normalized output');
    expectClose(await linear.getBuffer('weightU')!.toArray(), u, 0, 0, 'u unchanged in eval');
    x.dispose();
    linear.dispose();
  });

  it('keeps each forward\'s u, v for its own backward', async () => {
    // Two training forwards before one backward: gradients add up as two independent calls would.
    const make = async (): Promise<Linear> => {
      const l = spectralNorm(new Linear(3, 2));
      await l.loadStateDict({
        weightOrig: { shape: [2, 3], data: Float32Array.of(1, 2, 0, -1, 0.5, 1) },
        bias: { shape: [2], data: Float32Array.of(0, 0) },
        weightU: { shape: [2], data: Float32Array.of(0.6, 0.8) },
        weightV: { shape: [3], data: Float32Array.of(1, 0, 0) },
      });
      return l;
    };
    const x = fromArray([1, -1, 2], [1, 3]);
    const together = await make();
    tidy(() => {
      const a = together.call(x);
      const b = together.call(x);
      a.backward(fromArray([1, 1], [1, 2]));
      b.backward(fromArray([1, 1], [1, 2]));
    });
    const apart = await make();
    tidy(() => apart.call(x).backward(fromArray([1, 1], [1, 2])));
    tidy(() => apart.call(x).backward(fromArray([1, 1], [1, 2])));
    const g1 = await (together.getParameter('weightOrig')!.grad as Tensor).toArray();
    const g2 = await (apart.getParameter('weightOrig')!.grad as Tensor).toArray();
    expectClose(g1, g2, 1e-6, 1e-5, 'weightOrig grad');
    x.dispose();
    together.dispose();
    apart.dispose();
  });

  it('removeSpectralNorm writes the normalized weight back into weight', async () => {
    const linear = spectralNorm(new Linear(2, 2));
    await linear.loadStateDict({
      weightOrig: { shape: [2, 2], data: Float32Array.of(2, 0, 0, 1) },
      bias: { shape: [2], data: Float32Array.of(0, 0) },
      weightU: { shape: [2], data: Float32Array.of(1, 0) },
      weightV: { shape: [2], data: Float32Array.of(1, 0) },
    });
    const weight = linear.weight;
    removeSpectralNorm(linear);
    expect(linear.getParameter('weight')).toBe(weight);
    expect(Object.keys(linear.stateDict())).toEqual(['bias', 'weight']);
    expectClose(await weight.toArray(), [1, 0, 0, 0.5], 1e-6, 1e-6, 'weight');
    expect(linear.hasWeightTransform).toBe(false);
    expect(() => removeSpectralNorm(linear)).toThrow(/removeSpectralNorm: spectral norm was not applied to this Linear/);
    linear.dispose();
  });
});

describe('ConditionalBatchNorm2d', () => {
  beforeAll(async () => {
    await useGpu();
  });

  it('starts as batch norm without affine (γ = 1, β = 0 for every class)', async () => {
    const cbn = new ConditionalBatchNorm2d(3, 4);
    const bn = new BatchNorm2d(3, { affine: false });
    expect(Object.keys(cbn.stateDict())).toEqual(['bn.runningMean', 'bn.runningVar', 'bn.numBatchesTracked', 'embed.weight']);
    expectClose(await cbn.embed.weight.toArray(), Array.from({ length: 4 }, () => [1, 1, 1, 0, 0, 0]).flat(), 0, 0, 'embedding');
    const x = randn([2, 3, 2, 2]);
    const labels = fromArray([3, 0], [2]);
    const [a, b] = tidy(() => [cbn.call(x, labels), bn.call(x)]);
    expectClose(await a.toArray(), await b.toArray(), 1e-6, 1e-6, 'output');
    expect(cbn.bn.numBatchesTracked).toBe(1);
    expect(String(cbn)).toBe(
      'ConditionalBatchNorm2d(3, numClasses=4\n  (bn): BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=false, trackRunningStats=true)\n  (embed): Embedding(4, 6)\n)',
    );
    expect(() => tidy(() => cbn.call(x, fromArray([0, 1, 2], [3])))).toThrow(/ConditionalBatchNorm2d: expected labels of shape \[2\] \(one class index per sample of input \[2, 3, 2, 2\]\), got \[3\]/);
    expect(() => tidy(() => cbn.call(randn([2, 4, 2, 2]), labels))).toThrow(/ConditionalBatchNorm2d: expected input with 3 channels \[N, 3, H, W\]/);
    for (const t of [a, b, x, labels]) t.dispose();
    cbn.dispose();
    bn.dispose();
  });
});
