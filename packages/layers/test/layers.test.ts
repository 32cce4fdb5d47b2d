import { beforeAll, describe, expect, it } from 'vitest';
import { crossEntropy, fromArray, manualSeed, mul, ones, randn, reshape, SGD, tidy, zeros } from '@welford/core';
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  Conv2d,
  ConvTranspose2d,
  Dropout,
  Embedding,
  Flatten,
  Identity,
  Linear,
  MaxPool2d,
  ReLU,
  Sequential,
  Sigmoid,
  Tanh,
  type AnyModule,
  type Size2d,
} from '../src/index.ts';
import { expectClose, expectMatches, readFixture, tensorOf, useGpu, type FixtureTensor } from './helpers.ts';

beforeAll(async () => {
  await useGpu();
});

/** One case of scripts/fixtures/layers_basic.py: a layer, its state, an input and PyTorch's results. */
interface LayerCase {
  id: string;
  layer: string;
  args: unknown[];
  options: Record<string, unknown>;
  state: Record<string, FixtureTensor>;
  input: FixtureTensor;
  grad_output: FixtureTensor;
  expect: Record<string, FixtureTensor>;
  tol: { atol: number; rtol: number };
}

const { cases } = readFixture<{ cases: LayerCase[] }>('layers_basic.json');

// The fixture's constructor arguments are welford's own (camelCase options); each builder casts them to its signature.
const num = (v: unknown) => v as number;
const size = (v: unknown) => v as Size2d;
const builders: Record<string, (a: unknown[], o: Record<string, unknown>) => AnyModule> = {
  Conv2d: (a, o) => new Conv2d(num(a[0]), num(a[1]), size(a[2]), o),
  ConvTranspose2d: (a, o) => new ConvTranspose2d(num(a[0]), num(a[1]), size(a[2]), o),
  MaxPool2d: (a, o) => new MaxPool2d(size(a[0]), o),
  AvgPool2d: (a, o) => new AvgPool2d(size(a[0]), o),
  AdaptiveAvgPool2d: (a) => new AdaptiveAvgPool2d(size(a[0])),
  Flatten: (a) => new Flatten(...(a as number[])),
  Linear: (a, o) => new Linear(num(a[0]), num(a[1]), o),
  Embedding: (a) => new Embedding(num(a[0]), num(a[1])),
};

const hostOf = (t: FixtureTensor) => ({ shape: t.shape, data: Float32Array.from(t.data) });

describe('layers against PyTorch (forward and gradients)', () => {
  it.each(cases.map((c) => [c.id, c] as const))('%s', async (_, c) => {
    const layer = builders[c.layer](c.args, c.options);
    await layer.loadStateDict(Object.fromEntries(Object.entries(c.state).map(([k, v]) => [k, hostOf(v)])));
    const wantsInputGrad = 'grad.input' in c.expect;
    const x = tensorOf(c.input, wantsInputGrad);
    const out = tidy(() => {
      const y = layer.call(x);
      y.backward(tensorOf(c.grad_output));
      return y;
    });
    const { atol, rtol } = c.tol;
    await expectMatches(out, c.expect.output, atol, rtol, `${c.id} output`);
    if (wantsInputGrad) await expectMatches(x.grad!, c.expect['grad.input'], atol, rtol, `${c.id} grad.input`);
    const params = Object.fromEntries(layer.namedParameters());
    expect(Object.keys(params).sort()).toEqual(Object.keys(c.state).sort());
    for (const name of Object.keys(params)) await expectMatches(params[name].grad!, c.expect[`grad.${name}`], atol, rtol, `${c.id} grad.${name}`);
    out.dispose();
    x.dispose();
    layer.dispose();
  });
});

/** Checks U(−bound, bound): inside the bound, reaching near it, mean and standard deviation within 5 standard errors. */
function expectUniform(v: Float32Array, bound: number, what: string): void {
  const n = v.length;
  const max = v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  expect(max, `${what}: max |value|`).toBeLessThanOrEqual(bound);
  expect(max, `${what}: max |value|`).toBeGreaterThan(0.95 * bound);
  const mean = v.reduce((s, x) => s + x, 0) / n;
  const sd = bound / Math.sqrt(3);
  expect(Math.abs(mean), `${what}: mean`).toBeLessThan((5 * sd) / Math.sqrt(n));
  const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
  // The variance of U(−b, b) is b²/3; its estimate's standard error is about b²·sqrt(4/45 / n).
  expect(Math.abs(variance - sd * sd), `${what}: variance`).toBeLessThan(5 * bound * bound * Math.sqrt(4 / 45 / n));
}

describe('default initialisation (PyTorch: U(−1/√fanIn, 1/√fanIn))', () => {
  it('Conv2d: fanIn = inChannels / groups · kH · kW, for weight and bias', async () => {
    manualSeed(3);
    const conv = new Conv2d(32, 64, [3, 5], { groups: 2 });
    expect(conv.weight.shape).toEqual([64, 16, 3, 5]);
    expectUniform(await conv.weight.toArray(), 1 / Math.sqrt(16 * 15), 'Conv2d weight');
    expect(conv.bias!.shape).toEqual([64]);
    const bias = await conv.bias!.toArray();
    expect(bias.every((b) => Math.abs(b) <= 1 / Math.sqrt(16 * 15))).toBe(true);
    conv.dispose();
  });

  it("ConvTranspose2d: weight [in, out / groups, kH, kW] and torch's fanIn of that shape (out / groups · kH · kW)", async () => {
    manualSeed(4);
    const conv = new ConvTranspose2d(48, 40, 3, { groups: 4 });
    expect(conv.weight.shape).toEqual([48, 10, 3, 3]);
    expect(conv.outputDim).toBe(1);
    expectUniform(await conv.weight.toArray(), 1 / Math.sqrt(90), 'ConvTranspose2d weight');
    const bias = await conv.bias!.toArray();
    expect(bias.every((b) => Math.abs(b) <= 1 / Math.sqrt(90))).toBe(true);
    conv.dispose();
  });

  it('a seeded model is reproducible; bias: false registers no bias', async () => {
    manualSeed(9);
    const a = new Conv2d(3, 4, 3);
    manualSeed(9);
    const b = new Conv2d(3, 4, 3);
    expect(await a.weight.toArray()).toEqual(await b.weight.toArray());
    const c = new Conv2d(3, 4, 3, { bias: false });
    expect(c.bias).toBeNull();
    expect(Object.keys(c.stateDict())).toEqual(['weight']);
    for (const m of [a, b, c]) m.dispose();
  });
});

describe('input checks name the layer, the expected shape and the given shape', () => {
  it('Conv2d and ConvTranspose2d: rank and channels', () => {
    const conv = new Conv2d(3, 4, 3);
    const convT = new ConvTranspose2d(4, 2, 3);
    const linear = new Linear(4, 2);
    tidy(() => {
      expect(() => conv.call(zeros([2, 5]))).toThrow(/^Conv2d: expected a 4-D input \[N, 3, H, W\] or a 3-D unbatched input \[3, H, W\], got 2-D input of shape \[2, 5\]$/);
      expect(() => conv.call(zeros([2, 5, 8, 8]))).toThrow(/^Conv2d: expected input with 3 channels \[N, 3, H, W\], got 5 channels in input of shape \[2, 5, 8, 8\]$/);
      expect(() => conv.call(zeros([5, 8, 8]))).toThrow(/^Conv2d: expected input with 3 channels \[3, H, W\], got 5 channels in input of shape \[5, 8, 8\]$/);
      expect(() => convT.call(zeros([1, 3, 4, 4]))).toThrow(/^ConvTranspose2d: expected input with 4 channels \[N, 4, H, W\], got 3 channels/);
      expect(() => new MaxPool2d(2).call(zeros([8, 8]))).toThrow(/^MaxPool2d: expected a 4-D input \[N, C, H, W\] or a 3-D unbatched input \[C, H, W\], got 2-D input of shape \[8, 8\]/);
      expect(() => linear.call(zeros([3, 5]))).toThrow(/^Linear: expected input of shape \[\.\.\., 4\]/);
    });
    for (const m of [conv, convT, linear]) m.dispose();
  });

  it('inside a model, the error names the failing layer by its path', () => {
    const model = new Sequential(new Conv2d(1, 4, 3), new ReLU(), new Conv2d(5, 2, 3));
    tidy(() => {
      expect(() => model.call(zeros([2, 1, 8, 8]))).toThrow(/^2 \(Conv2d\): Conv2d: expected input with 5 channels \[N, 5, H, W\], got 4 channels in input of shape \[2, 4, 6, 6\]$/);
    });
    model.dispose();
  });

  it('pools, Flatten and AdaptiveAvgPool2d reject what they cannot compute', () => {
    tidy(() => {
      expect(() => new AdaptiveAvgPool2d(3).call(zeros([1, 2, 8, 8]))).toThrow(
        /^AdaptiveAvgPool2d: output size \[3, 3\] needs an input height and width divisible by it \(supported: output 1, or sizes dividing the input\), got input of shape \[1, 2, 8, 8\]$/,
      );
      expect(() => new Flatten(2).call(zeros([4, 5]))).toThrow(/^Flatten: startDim=2 and endDim=-1 need an input with at least 3 dimensions, got input of shape \[4, 5\]$/);
      expect(() => new MaxPool2d(3).call(zeros([1, 1, 2, 2]))).toThrow(/maxPool2d: .*Output size is too small/);
    });
  });
});

describe('option checks', () => {
  it('convolutions', () => {
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow(/^Conv2d: inChannels must be divisible by groups, got inChannels=3, groups=2$/);
    expect(() => new Conv2d(4, 3, 3, { groups: 2 })).toThrow(/^Conv2d: outChannels must be divisible by groups, got outChannels=3, groups=2$/);
    expect(() => new Conv2d(0, 3, 3)).toThrow(/^Conv2d: inChannels must be a positive integer, got 0$/);
    expect(() => new Conv2d(3, 3, 0)).toThrow(/^Conv2d: kernelSize must be a positive integer or a pair \[height, width\] of them, got 0$/);
    expect(() => new Conv2d(3, 3, 3, { stride: [1, 0] })).toThrow(/^Conv2d: stride must be a positive integer/);
    expect(() => new Conv2d(3, 3, 3, { padding: -1 })).toThrow(/^Conv2d: padding must be a non-negative integer/);
    expect(() => new Conv2d(3, 3, 3, { padding: 'same', stride: 2 })).toThrow(/^Conv2d: padding='same' is not supported for strided convolutions, got stride=\[2, 2\]$/);
    expect(() => new Conv2d(3, 3, 3, { padding: 'full' as 'same' })).toThrow(/^Conv2d: padding must be a non-negative integer, a pair of them, 'same' or 'valid', got "full"$/);
    expect(() => new ConvTranspose2d(3, 3, 3, { stride: 2, outputPadding: 2 })).toThrow(
      /^ConvTranspose2d: outputPadding must be smaller than either stride or dilation in each dimension, got outputPadding=\[2, 2\], stride=\[2, 2\], dilation=\[1, 1\]$/,
    );
  });

  it('pools, Dropout, Flatten', () => {
    expect(() => new MaxPool2d(2, { padding: 2 })).toThrow(/^MaxPool2d: padding should be at most half of kernelSize, got padding=\[2, 2\], kernelSize=\[2, 2\]$/);
    expect(() => new AvgPool2d([2, 0])).toThrow(/^AvgPool2d: kernelSize must be a positive integer/);
    expect(() => new AdaptiveAvgPool2d(0)).toThrow(/^AdaptiveAvgPool2d: outputSize must be a positive integer/);
    expect(() => new Dropout(1.5)).toThrow(/^Dropout: p must be a finite number in \[0, 1\], got 1.5$/);
    expect(() => new Dropout(-0.1)).toThrow(/^Dropout: p must be/);
    expect(() => new Flatten(0.5)).toThrow(/^Flatten: startDim must be an integer, got 0.5$/);
  });
});

describe('Conv2d details', () => {
  it("padding: 'same' keeps the size for odd and even kernels; 'valid' is no padding", () => {
    const convs = [1, 2, 3, 4, [2, 5]].map((k) => new Conv2d(2, 3, k as Size2d, { padding: 'same', dilation: 2 }));
    const valid = new Conv2d(2, 3, 3, { padding: 'valid' });
    tidy(() => {
      const x = randn([1, 2, 7, 6]);
      for (const conv of convs) expect(conv.call(x).shape).toEqual([1, 3, 7, 6]);
      expect(valid.call(x).shape).toEqual([1, 3, 5, 4]);
    });
    for (const m of [...convs, valid]) m.dispose();
  });

  it('forward reads the weight through effectiveWeight (a weight transform replaces it)', async () => {
    const conv = new Conv2d(2, 3, 3, { padding: 1 });
    conv.setWeightTransform((layer) => mul(layer.weight, 0));
    const y = tidy(() => conv.call(ones([1, 2, 4, 4])));
    const bias = await conv.bias!.toArray();
    const want = Array.from({ length: 48 }, (_, i) => bias[Math.floor(i / 16)]);
    expectClose(await y.toArray(), want, 0, 0, 'output with a zero weight');
    y.dispose();
    conv.dispose();
  });

  it('unbatched pools give the batched result without the batch dimension', async () => {
    const x = randn([3, 7, 5]);
    for (const pool of [new MaxPool2d(3, { stride: 2, padding: 1 }), new AvgPool2d(2), new AdaptiveAvgPool2d(1)]) {
      const [a, b] = tidy(() => [pool.call(x), pool.call(reshape(x, [1, 3, 7, 5]))]);
      expect(a.shape).toEqual(b.shape.slice(1));
      expect(await a.toArray()).toEqual(await b.toArray());
      a.dispose();
      b.dispose();
    }
    x.dispose();
  });

  it('toString shows the settings that differ from the defaults, like PyTorch', () => {
    const layers = [
      new Conv2d(3, 8, 3, { stride: 2, padding: 1, bias: false }),
      new Conv2d(2, 4, [3, 2], { padding: 'same', groups: 2 }),
      new ConvTranspose2d(4, 2, 3, { stride: 2, padding: 1, outputPadding: 1 }),
      new MaxPool2d(2),
      new AvgPool2d(3, { stride: 1, padding: 1, countIncludePad: false }),
      new AdaptiveAvgPool2d([2, 3]),
      new Dropout(0.25),
      new Flatten(),
      new ReLU(),
    ];
    expect(layers.map(String)).toEqual([
      'Conv2d(3, 8, kernelSize=[3, 3], stride=[2, 2], padding=[1, 1], bias=false)',
      "Conv2d(2, 4, kernelSize=[3, 2], padding='same', groups=2)",
      'ConvTranspose2d(4, 2, kernelSize=[3, 3], stride=[2, 2], padding=[1, 1], outputPadding=[1, 1])',
      'MaxPool2d(kernelSize=[2, 2], stride=[2, 2], padding=[0, 0])',
      'AvgPool2d(kernelSize=[3, 3], stride=[1, 1], padding=[1, 1], countIncludePad=false)',
      'AdaptiveAvgPool2d(outputSize=[2, 3])',
      'Dropout(p=0.25)',
      'Flatten(startDim=1, endDim=-1)',
      'ReLU()',
    ]);
    for (const m of layers) m.dispose();
  });
});

describe('activations', () => {
  it('ReLU, Sigmoid, Tanh compute their functions; Identity returns its input itself', async () => {
    const data = [-2, -0.5, 0, 0.5, 3];
    const x = fromArray(data, [5]);
    const [r, s, t] = tidy(() => [new ReLU().call(x), new Sigmoid().call(x), new Tanh().call(x)]);
    expectClose(await r.toArray(), data.map((v) => Math.max(v, 0)), 0, 0, 'relu');
    expectClose(await s.toArray(), data.map((v) => 1 / (1 + Math.exp(-v))), 1e-6, 1e-6, 'sigmoid');
    expectClose(await t.toArray(), data.map(Math.tanh), 1e-6, 1e-6, 'tanh');
    expect(new Identity().call(x)).toBe(x);
    for (const v of [x, r, s, t]) v.dispose();
  });
});

describe('Dropout', () => {
  it('training: zeroes about p of the elements and scales the rest by 1 / (1 − p); eval: returns the input itself', async () => {
    const drop = new Dropout(0.25);
    const x = ones([4000]);
    const y = drop.call(x);
    const values = await y.toArray();
    const kept = values.filter((v) => v !== 0);
    expect(values.every((v) => v === 0 || v === Math.fround(1 / 0.75))).toBe(true);
    // 5 standard deviations of a binomial(4000, 0.75).
    expect(Math.abs(kept.length - 3000)).toBeLessThan(5 * Math.sqrt(4000 * 0.25 * 0.75));
    // A second call draws another mask.
    const again = drop.call(x);
    expect(await again.toArray()).not.toEqual(values);
    drop.eval();
    expect(drop.call(x)).toBe(x);
    drop.train();
    const trained = drop.call(x);
    expect(trained).not.toBe(x);
    for (const t of [x, y, again, trained]) t.dispose();
  });

  it('manualSeed makes the masks reproducible; p = 0 keeps everything and p = 1 nothing', async () => {
    const x = ones([300]);
    const run = async (p: number) => {
      const y = new Dropout(p).call(x);
      const v = await y.toArray();
      y.dispose();
      return v;
    };
    manualSeed(5);
    const first = await run(0.5);
    manualSeed(5);
    expect(await run(0.5)).toEqual(first);
    expect((await run(0)).every((v) => v === 1)).toBe(true);
    expect((await run(1)).every((v) => v === 0)).toBe(true);
    x.dispose();
  });

  it('the gradient goes through the kept elements only, scaled', async () => {
    const x = ones([200], { requiresGrad: true });
    const y = tidy(() => {
      const out = new Dropout(0.5).call(x);
      out.backward(ones([200]));
      return out;
    });
    expect(Array.from(await x.grad!.toArray())).toEqual(Array.from(await y.toArray()));
    y.dispose();
    x.dispose();
  });
});

describe('a small CNN', () => {
  it('Conv2d → ReLU → MaxPool2d → Flatten → Linear learns a tiny batch with SGD', async () => {
    manualSeed(11);
    const model = new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(4 * 4 * 4, 3));
    const x = randn([4, 1, 8, 8]);
    const target = fromArray([0, 1, 2, 1], [4]);
    const opt = new SGD(model.parameters(), { lr: 0.2 });
    const losses: number[] = [];
    for (let step = 0; step < 12; step++) {
      const loss = tidy(() => {
        opt.zeroGrad();
        const l = crossEntropy(model.call(x), target);
        l.backward();
        opt.step();
        return l;
      });
      losses.push((await loss.toArray())[0]);
      loss.dispose();
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(0.6 * losses[0]);
    for (const t of [x, target]) t.dispose();
    model.dispose();
  });
});
