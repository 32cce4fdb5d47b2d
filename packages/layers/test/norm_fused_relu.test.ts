import { beforeAll, describe, expect, it } from 'vitest';
import { fromArray, manualSeed, mul, randn, relu, sum, tidy, type Tensor } from '@welford/core';
import { BatchNorm1d, BatchNorm2d, BatchRenorm2d, createNorm, GroupNorm, InstanceNorm2d, LayerNorm, ReLU, type Module } from '../src/index.ts';
import { expectClose, useGpu } from './helpers.ts';

beforeAll(async () => {
  await useGpu();
});

/** Output and gradients (input, then parameters) of sum(layer(x)·g) for a fixed g. */
async function run(layer: Module, x: Tensor, applyRelu: boolean): Promise<Float32Array[]> {
  const input = fromArray(await x.toArray(), x.shape, { requiresGrad: true });
  const y = tidy(() => {
    const out = applyRelu ? relu(layer.call(input)) : layer.call(input);
    sum(mul(out, randn(out.shape, { seed: 3 }))).backward();
    return out;
  });
  const grads = [input.grad!, ...layer.parameters().map((p) => p.grad!)];
  const values = [await y.toArray(), ...(await Promise.all(grads.map((g) => g.toArray())))];
  layer.zeroGrad();
  return values;
}

const cases: [string, (relu: boolean) => Module, number[]][] = [
  ['BatchNorm2d', (r) => new BatchNorm2d(3, { relu: r }), [4, 3, 5, 7]],
  ['BatchNorm1d', (r) => new BatchNorm1d(5, { relu: r }), [6, 5]],
  ['GroupNorm', (r) => new GroupNorm(2, 6, { relu: r }), [2, 6, 3, 5]],
  ['LayerNorm', (r) => new LayerNorm([5, 3], { relu: r }), [4, 5, 3]],
  ['InstanceNorm2d', (r) => new InstanceNorm2d(3, { affine: true, relu: r }), [2, 3, 4, 5]],
  ['BatchRenorm2d', (r) => new BatchRenorm2d(3, { relu: r }), [4, 3, 5, 7]],
];

describe('normalization layers with a fused ReLU', () => {
  for (const [name, make, shape] of cases) {
    it(`${name}: relu option equals the layer followed by ReLU, forward and backward, train and eval`, async () => {
      manualSeed(9);
      const x = randn(shape, { mean: 0.3 });
      const fused = make(true);
      const plain = make(false);
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

  it('says so in its description, and createNorm fuses on request', () => {
    expect(new BatchNorm2d(4, { relu: true }).toString()).toBe('BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=true, trackRunningStats=true, relu=true)');
    expect((createNorm('group', 8, { groups: 4, relu: true }) as GroupNorm).relu).toBe(true);
    expect(createNorm('none', 8, { relu: true })).toBeInstanceOf(ReLU);
    expect(() => new GroupNorm(2, 4, { relu: 1 as unknown as boolean })).toThrow(/GroupNorm: relu must be a boolean/);
  });
});
