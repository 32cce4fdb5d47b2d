import { beforeAll, describe, expect, it } from 'vitest';
import { fromArray, keep, manualSeed, mul, randn, relu, SGD, sum, tidy, type Tensor, type WebGpuBackend } from '@welford/core';
import { BatchNorm1d, BatchNorm2d, BatchRenorm2d, createNorm, GroupNorm, InstanceNorm2d, LayerNorm, ReLU, Sequential, smallCnn, type Module } from '../src/index.ts';
import { expectClose, useGpu } from './helpers.ts';

// Norm and ReLU are two modules, as in PyTorch; the two still run as one kernel pass, below
// the module layer. A hook on the norm sees its own (pre-ReLU) output.

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await useGpu();
});

/** Output and gradients (input, then parameters) of sum(relu(norm(x))·g) for a fixed g. */
async function run(norm: Module, x: Tensor, forceUnfused: boolean): Promise<Float32Array[]> {
  const input = fromArray(await x.toArray(), x.shape, { requiresGrad: true });
  // Reading the norm's output in a hook computes it on its own, so the ReLU runs unfused.
  const hook = forceUnfused ? norm.registerForwardHook((_m, _i, out) => void (out as Tensor).realize()) : null;
  const model = new Sequential(norm, new ReLU());
  const y = tidy(() => {
    const out = model.call(input);
    sum(mul(out, randn(out.shape, { seed: 3 }))).backward();
    return out;
  });
  hook?.remove();
  const grads = [input.grad!, ...norm.parameters().map((p) => p.grad!)];
  const values = [await y.toArray(), ...(await Promise.all(grads.map((g) => g.toArray())))];
  norm.zeroGrad();
  return values;
}

const cases: [string, () => Module, number[]][] = [
  ['BatchNorm2d', () => new BatchNorm2d(3), [4, 3, 5, 7]],
  ['BatchNorm1d', () => new BatchNorm1d(5), [6, 5]],
  ['GroupNorm', () => new GroupNorm(2, 6), [2, 6, 3, 5]],
  ['LayerNorm', () => new LayerNorm([5, 3]), [4, 5, 3]],
  ['InstanceNorm2d', () => new InstanceNorm2d(3, { affine: true }), [2, 3, 4, 5]],
  ['BatchRenorm2d', () => new BatchRenorm2d(3), [4, 3, 5, 7]],
];

describe('a norm module followed by a ReLU module', () => {
  for (const [name, make, shape] of cases) {
    it(`${name}: the fused pass equals norm then ReLU, forward and backward, train and eval`, async () => {
      manualSeed(9);
      const x = randn(shape, { mean: 0.3 });
      const fused = make();
      const plain = make();
      for (const training of [true, false]) {
        fused.train(training);
        plain.train(training);
        const got = await run(fused, x, false);
        const want = await run(plain, x, true);
        got.forEach((g, i) => expectClose(g, want[i], 1e-5, 1e-5, `${name} ${training ? 'train' : 'eval'} [${i}]`));
        expect(Math.min(...got[0])).toBeGreaterThanOrEqual(0);
      }
      fused.dispose();
      plain.dispose();
    });
  }

  it('model S: a hook on bn1 sees pre-ReLU values and one on relu1 post-ReLU values, as in PyTorch', async () => {
    manualSeed(4);
    const model = smallCnn();
    const seen: Record<string, Float32Array> = {};
    const reads: Promise<void>[] = [];
    for (const name of ['bn1', 'relu1']) {
      const m = model.namedModules().find(([n]) => n === name)![1];
      m.registerForwardHook((_m, _i, out) => void reads.push((out as Tensor).toArray().then((v) => void (seen[name] = v))));
    }
    tidy(() => model.call(randn([2, 1, 8, 8], { seed: 5 })));
    await Promise.all(reads);
    expect(Math.min(...seen.bn1)).toBeLessThan(0);
    expectClose(seen.relu1, seen.bn1.map((v) => Math.max(v, 0)), 1e-6, 0, 'relu1 = relu(bn1)');
    model.dispose();
  });

  it('model S: a training step takes no dispatch for its ReLUs', async () => {
    manualSeed(4);
    const model = smallCnn();
    const opt = new SGD(model.parameters(), { lr: 0.01 });
    const x = randn([4, 1, 8, 8], { seed: 6 });
    const step = (hook: boolean): number => {
      const handles = hook ? model.norms.map((m) => m.registerForwardHook((_m, _i, out) => void (out as Tensor).realize())) : [];
      const before = gpu.counters.dispatches;
      tidy(() => sum(model.call(x)).backward());
      opt.step();
      for (const h of handles) h.remove();
      return gpu.counters.dispatches - before;
    };
    step(false);
    const fused = step(false);
    // Unfused: per stage the norm's own pass, the ReLU forward, and the ReLU's backward mask and product.
    const unfused = step(true);
    expect(unfused - fused).toBeGreaterThanOrEqual(2 * model.norms.length);
    opt.dispose();
    model.dispose();
  });

  it('a norm output kept by a hook reads the values of its forward after the optimizer step', async () => {
    manualSeed(4);
    const model = smallCnn({ norm: 'group', groups: 4 });
    const x = randn([2, 1, 8, 8], { seed: 7 });
    for (const foreach of [true, false]) {
      const opt = new SGD(model.parameters(), { lr: 0.5, foreach });
      const want = await tidy(() => model.norms[0].call(model.convs[0].call(x))).toArray();
      let kept: Tensor | null = null;
      const hook = model.norms[0].registerForwardHook((_m, _i, out) => void (kept = keep(out as Tensor)));
      tidy(() => sum(model.call(x)).backward());
      hook.remove();
      opt.step();
      expectClose(await kept!.toArray(), want, 1e-5, 1e-5, `bn1's output after the step (foreach ${foreach})`);
      kept!.dispose();
      opt.dispose();
    }
    model.dispose();
  });

  it('the norm layers and createNorm refuse the removed relu option, saying what to do instead', () => {
    const options = { relu: true } as unknown as Record<string, never>;
    for (const make of [() => new BatchNorm2d(4, options), () => new GroupNorm(2, 4, options), () => new LayerNorm(4, options), () => new InstanceNorm2d(4, options), () => new BatchRenorm2d(4, options), () => createNorm('batch', 4, options)]) {
      expect(make).toThrow(/the relu option was removed; put a ReLU module after the norm/);
    }
    expect(new BatchNorm2d(4).toString()).toBe('BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=true, trackRunningStats=true)');
    expect(createNorm('none', 8).typeName).toBe('Identity');
    expect(relu).toBeTypeOf('function');
  });
});
