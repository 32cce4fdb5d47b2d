import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { Tensor, WebGpuBackend } from '../src/index.ts';
import { compareBackward, gradcheck } from './gradcheck.ts';
import { cpuBackend, expectTensorsClose, gpuBackend, onBoth, randomData } from './helpers.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

// [input shape, out_features]
const shapes: [number[], number][] = [
  [[1, 1], 1],
  [[7, 33], 5],
  [[33, 65], 17],
  [[3, 7, 5], 9],
  [[2, 3, 4, 6], 7],
  [[5], 3],
  [[257, 3], 1],
];

describe('linear: WebGPU against the CPU reference', () => {
  for (const [inShape, outFeatures] of shapes) {
    const inFeatures = inShape[inShape.length - 1];
    for (const withBias of [true, false]) {
      it(`${JSON.stringify(inShape)} -> ${outFeatures} features${withBias ? ' + bias' : ''}`, async () => {
        const [gx, cx] = onBoth(randomData(size(inShape), 1), inShape, gpu);
        const [gw, cw] = onBoth(randomData(outFeatures * inFeatures, 2), [outFeatures, inFeatures], gpu);
        const [gb, cb] = onBoth(randomData(outFeatures, 3), [outFeatures], gpu);
        const want = w.linear(cx, cw, withBias ? cb : undefined);
        expect([...want.shape]).toEqual([...inShape.slice(0, -1), outFeatures]);
        await expectTensorsClose(w.linear(gx, gw, withBias ? gb : undefined), want, 1e-4, 1e-4, 'linear');
      });
    }
  }

  it('is input · weightᵀ + bias on a small example, on both backends', async () => {
    for (const backend of [cpuBackend(), gpu]) {
      const x = w.fromArray([1, 2, 3, 4, 5, 6], [2, 3], { backend });
      const weight = w.fromArray([1, 0, -1, 2, 1, 0], [2, 3], { backend });
      const bias = w.fromArray([10, -10], [2], { backend });
      // Row 1: [1-3, 2+2] = [-2, 4]; row 2: [4-6, 8+5] = [-2, 13]; plus bias.
      expect(Array.from(await w.linear(x, weight, bias).toArray())).toEqual([8, -6, 8, 3]);
      expect(Array.from(await w.linear(x, weight).toArray())).toEqual([-2, 4, -2, 13]);
    }
  });

  it('adds the bias as the product is written: one dispatch, with or without a gradient tape', async () => {
    const x = w.fromArray(randomData(7 * 33, 8), [7, 33], { backend: gpu, requiresGrad: true });
    const weight = w.fromArray(randomData(5 * 33, 9), [5, 33], { backend: gpu, requiresGrad: true });
    const bias = w.fromArray(randomData(5, 10), [5], { backend: gpu, requiresGrad: true });
    const before = gpu.counters.dispatches;
    const y = w.linear(x, weight, bias);
    expect(gpu.counters.dispatches - before).toBe(1);
    expect(y.gradFn?.op).toBe('matmul');
    y.dispose();
  });

  it('leaves no intermediate behind when no gradient is recorded', async () => {
    const x = w.fromArray(randomData(12, 4), [4, 3], { backend: gpu });
    const weight = w.fromArray(randomData(6, 5), [2, 3], { backend: gpu });
    const bias = w.fromArray(randomData(2, 6), [2], { backend: gpu });
    const before = w.memory(gpu).liveBuffers;
    const y = w.linear(x, weight, bias);
    expect(w.memory(gpu).liveBuffers).toBe(before + 1);
    y.dispose();
  });
});

describe('linear: gradients', () => {
  const grads: [number[], number, boolean][] = [
    [[3, 5], 4, true],
    [[2, 3, 4], 3, true],
    [[5], 2, true],
    [[4, 7], 3, false],
  ];
  const fn = (bias: boolean) => (x: Tensor, weight: Tensor, b?: Tensor): Tensor => w.linear(x, weight, bias ? b : undefined);
  const inputsFor = (inShape: number[], outFeatures: number, bias: boolean) => {
    const inFeatures = inShape[inShape.length - 1];
    const inputs = [
      { shape: inShape, data: randomData(size(inShape), 7) },
      { shape: [outFeatures, inFeatures], data: randomData(outFeatures * inFeatures, 8) },
    ];
    if (bias) inputs.push({ shape: [outFeatures], data: randomData(outFeatures, 9) });
    return inputs;
  };

  for (const [inShape, outFeatures, bias] of grads) {
    const name = `${JSON.stringify(inShape)} -> ${outFeatures}${bias ? ' + bias' : ''}`;
    it(`finite differences on the CPU: ${name}`, async () => {
      await gradcheck(fn(bias), inputsFor(inShape, outFeatures, bias));
    });
    it(`GPU backward matches the CPU backward: ${name}`, async () => {
      await compareBackward(fn(bias), inputsFor(inShape, outFeatures, bias), gpu);
    });
  }

  it('accumulates the gradient of an input used twice (x as input and, reshaped, as weight)', async () => {
    const x = w.fromArray([1, 2, 3, 4], [2, 2], { backend: cpuBackend(), requiresGrad: true });
    // y = x · xᵀ; d(sum y)/dx = 2 · (column sums of x) broadcast over rows.
    w.sum(w.linear(x, x)).backward();
    expect(Array.from(await x.grad!.toArray())).toEqual([8, 12, 8, 12]);
  });
});

describe('linear: bad inputs', () => {
  const t = (shape: number[]): Tensor => w.zeros(shape, { backend: cpuBackend() });
  it('rejects a weight that is not 2-D', () => {
    expect(() => w.linear(t([2, 3]), t([3]))).toThrow('linear: expected weight of shape [out_features, in_features], got [3]');
  });
  it('rejects mismatched features, naming both shapes', () => {
    expect(() => w.linear(t([6, 5]), t([3, 4]))).toThrow(
      "linear: input of shape [6, 5] and weight of shape [3, 4] cannot be multiplied: the input's last dimension (5) must equal in_features (4)",
    );
  });
  it('rejects a 0-d input', () => {
    expect(() => w.linear(t([]), t([3, 4]))).toThrow('linear: expected input of shape [..., 4], got a 0-d tensor');
  });
  it('rejects a bias of the wrong shape', () => {
    expect(() => w.linear(t([2, 4]), t([3, 4]), t([4]))).toThrow('linear: expected bias of shape [3] (out_features of weight [3, 4]), got [4]');
    expect(() => w.linear(t([2, 4]), t([3, 4]), t([1, 3]))).toThrow('got [1, 3]');
  });
});
