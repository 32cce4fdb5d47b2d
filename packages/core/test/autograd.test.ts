import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import { cpuBackend, expectClose, gpuBackend } from './helpers.ts';
import { gradcheck, compareBackward } from './gradcheck.ts';
import { randomData } from './helpers.ts';

let gpu: w.WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
});

for (const which of ['webgpu', 'cpu'] as const) {
  describe(`autograd on ${which}`, () => {
    const backend = () => (which === 'cpu' ? cpuBackend() : gpu);

    it('an input used twice gets the sum of both paths', async () => {
      w.setBackend(backend());
      const x = w.fromArray([1, -2, 3], [3], { requiresGrad: true });
      // y = x·x + x  →  dy/dx = 2x + 1
      const y = w.add(w.mul(x, x), x);
      y.backward(w.ones([3]));
      expectClose(await x.grad!.toArray(), [3, -3, 7], 0, 0);
    });

    it('a second backward accumulates into .grad', async () => {
      w.setBackend(backend());
      const x = w.fromArray([2, 5], [2], { requiresGrad: true });
      w.mul(x, 3).backward(w.ones([2]));
      w.mul(x, x).backward(w.ones([2]));
      expectClose(await x.grad!.toArray(), [3 + 4, 3 + 10], 0, 0);
    });

    it('a scalar output needs no upstream gradient; a non-scalar one does', async () => {
      w.setBackend(backend());
      const x = w.fromArray([4], [], { requiresGrad: true });
      w.square(x).backward();
      expectClose(await x.grad!.toArray(), [8], 0, 0);
      const v = w.fromArray([1, 2], [2], { requiresGrad: true });
      expect(() => w.exp(v).backward()).toThrow(/backward: a gradient can be implied only for a one-element output, got shape \[2\]/);
      expect(() => w.exp(v).backward(w.ones([3]))).toThrow(/backward: the gradient must have the output's shape \[2\], got \[3\]/);
    });

    it('noGrad records nothing; detach cuts the graph', async () => {
      w.setBackend(backend());
      const x = w.fromArray([1, 2], [2], { requiresGrad: true });
      const y = w.noGrad(() => w.mul(x, 2));
      expect(y.requiresGrad).toBe(false);
      expect(y.gradFn).toBeNull();
      expect(() => y.backward(w.ones([2]))).toThrow(/does not require grad/);
      // z = x·detach(x): only the first factor carries a gradient, so dz/dx = x.
      const z = w.mul(x, x.detach());
      z.backward(w.ones([2]));
      expectClose(await x.grad!.toArray(), [1, 2], 0, 0);
    });

    it('only leaves that require grad receive one; comparisons are not differentiable', async () => {
      w.setBackend(backend());
      const a = w.fromArray([1, 2], [2], { requiresGrad: true });
      const b = w.fromArray([3, 4], [2]);
      const mask = w.gt(a, 1.5);
      expect(mask.requiresGrad).toBe(false);
      w.mul(w.mul(a, b), mask).backward(w.ones([2]));
      expect(b.grad).toBeNull();
      expectClose(await a.grad!.toArray(), [0, 4], 0, 0);
    });

    it('differentiating an op without a backward rule is a clear error', () => {
      w.setBackend(backend());
      w.registerOp<Record<string, never>>({
        name: `opaque_${which}`,
        shape: ([x]) => x,
        cpu: ([x], out) => out.data.set(x.data),
        gpu: () => {
          throw new Error('not used');
        },
      });
      if (which === 'webgpu') return;
      const x = w.fromArray([1], [1], { requiresGrad: true });
      const y = w.runOp(`opaque_${which}`, [x], {});
      expect(() => y.backward(w.ones([1]))).toThrow(/opaque_cpu: this op has no backward rule/);
    });

    it('registering an op name twice throws', () => {
      expect(() => w.registerOp({ name: 'add', shape: (s) => s[0], cpu: () => {}, gpu: () => [] })).toThrow(/already registered/);
    });

    it('a broadcast operand gets its gradient summed back to its shape', async () => {
      w.setBackend(backend());
      const a = w.fromArray(randomData(12, 3), [3, 4], { requiresGrad: true });
      const b = w.fromArray([1, 2, 3, 4], [4], { requiresGrad: true });
      w.mul(a, b).backward(w.ones([3, 4]));
      const aData = await a.toArray();
      const want = [0, 1, 2, 3].map((j) => aData[j] + aData[4 + j] + aData[8 + j]);
      expectClose(await b.grad!.toArray(), want, 1e-6, 1e-6);
    });
  });
}

describe('backward rules of the elementwise ops', () => {
  const positive = (n: number, seed: number) => randomData(n, seed).map((v) => Math.abs(v) + 0.2);
  const unary: [string, (x: w.Tensor) => w.Tensor, Float32Array][] = [
    ['neg', w.neg, randomData(7, 1)],
    ['exp', w.exp, randomData(7, 2)],
    ['log', w.log, positive(7, 3)],
    ['sqrt', w.sqrt, positive(7, 4)],
    ['rsqrt', w.rsqrt, positive(7, 5)],
    ['relu', w.relu, randomData(7, 6).map((v) => (Math.abs(v) < 0.05 ? 0.3 : v))],
    ['sigmoid', w.sigmoid, randomData(7, 7)],
    ['tanh', w.tanh, randomData(7, 8)],
    ['abs', w.abs, randomData(7, 9).map((v) => (Math.abs(v) < 0.05 ? 0.3 : v))],
    ['square', w.square, randomData(7, 10)],
    ['affine', (x) => w.affine(x, -1.5, 2), randomData(7, 11)],
    ['powScalar', (x) => w.powScalar(x, 2.5), positive(7, 12)],
  ];
  for (const [name, fn, data] of unary) {
    it(`${name}: finite differences on the CPU, and WebGPU backward against CPU backward`, async () => {
      await gradcheck(fn, [{ shape: [7], data }]);
      await compareBackward(fn, [{ shape: [7], data }], gpu);
    });
  }

  const binary: [string, (a: w.Tensor, b: w.Tensor) => w.Tensor][] = [
    ['add', w.add],
    ['sub', w.sub],
    ['mul', w.mul],
    ['div', w.div],
    ['pow', w.pow],
    ['maximum', w.maximum],
    ['minimum', w.minimum],
  ];
  for (const [name, fn] of binary) {
    it(`${name} with broadcasting [3, 1, 5] ⊕ [4, 1]: finite differences and WebGPU vs CPU`, async () => {
      const a = randomData(15, 20).map((v) => (name === 'pow' ? Math.abs(v) + 0.5 : v));
      const b = randomData(4, 21).map((v) => (name === 'div' ? Math.sign(v) * (Math.abs(v) + 0.5) : v));
      const inputs = [
        { shape: [3, 1, 5], data: a },
        { shape: [4, 1], data: b },
      ];
      await gradcheck(fn, inputs);
      await compareBackward(fn, inputs, gpu);
    });
  }

  it('maximum splits the gradient equally between tied inputs, like PyTorch', async () => {
    w.setBackend(cpuBackend());
    const a = w.fromArray([1, 2, 3], [3], { requiresGrad: true });
    const b = w.fromArray([1, 5, 0], [3], { requiresGrad: true });
    w.maximum(a, b).backward(w.ones([3]));
    expectClose(await a.grad!.toArray(), [0.5, 0, 1], 0, 0);
    expectClose(await b.grad!.toArray(), [0.5, 1, 0], 0, 0);
  });
});
