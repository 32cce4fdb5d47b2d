import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { Tensor, WebGpuBackend } from '../src/index.ts';
import { compareBackward, gradcheck } from './gradcheck.ts';
import { cpuBackend, expectClose, expectTensorsClose, gpuBackend, onBoth, randomData } from './helpers.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

const size = (shape: number[]): number => shape.reduce((p, d) => p * d, 1);

const ops: [string, (x: Tensor, axis?: number) => Tensor][] = [
  ['softmax', w.softmax],
  ['logSoftmax', w.logSoftmax],
];

const shapes: [number[], number][] = [
  [[1], -1],
  [[7], 0],
  [[33], -1],
  [[257], -1],
  [[5, 33], -1],
  [[4, 1000], 1],
  [[3, 7, 5], 1],
  [[3, 7, 5], 0],
  [[257, 3], 0],
  [[2, 3, 4, 5], -2],
  [[1, 1], 0],
  [[], -1],
];

describe('softmax and logSoftmax: WebGPU against the CPU reference', () => {
  for (const [name, op] of ops) {
    for (const [shape, axis] of shapes) {
      it(`${name} of ${JSON.stringify(shape)} along ${axis}`, async () => {
        const [g, c] = onBoth(randomData(size(shape), shape.length + axis + 3, 4), shape, gpu);
        await expectTensorsClose(op(g, axis), op(c, axis), 1e-5, 1e-5, name);
      });
    }

    if (name === 'softmax') {
      it('softmax of [70000, 3]: more rows than one dispatch dimension holds', async () => {
        const [g, c] = onBoth(randomData(210_000, 21, 4), [70_000, 3], gpu);
        await expectTensorsClose(op(g), op(c), 1e-5, 1e-5, name);
      });
    }

    it(`${name} stays finite and exact for logits of ±1000`, async () => {
      const data = Float32Array.from([1000, 999, -1000, 0, 1000, 1000, 1000, 998]);
      const [g, c] = onBoth(data, [2, 4], gpu);
      const want = op(c);
      const got = await op(g).toArray();
      expect(got.every(Number.isFinite)).toBe(true);
      expectClose(got, await want.toArray(), 1e-6, 1e-5, name);
    });
  }

  it('computes the definition (the reference itself): softmax([0, ln 3]) = [1/4, 3/4]', async () => {
    for (const backend of [cpuBackend(), gpu]) {
      const x = w.fromArray([0, Math.log(3), 5, 5], [2, 2], { backend });
      expectClose(await w.softmax(x).toArray(), [0.25, 0.75, 0.5, 0.5], 1e-6, 1e-6);
      expectClose(await w.logSoftmax(x).toArray(), [Math.log(0.25), Math.log(0.75), Math.log(0.5), Math.log(0.5)], 1e-6, 1e-6);
    }
  });

  it('sums to one along a non-last axis on the GPU', async () => {
    const x = w.fromArray(randomData(3 * 33 * 7, 5, 3), [3, 33, 7], { backend: gpu });
    const p = await w.softmax(x, 1).toArray();
    for (let o = 0; o < 3; o++) {
      for (let i = 0; i < 7; i++) {
        let s = 0;
        for (let j = 0; j < 33; j++) s += p[(o * 33 + j) * 7 + i];
        expect(s).toBeCloseTo(1, 5);
      }
    }
  });
});

describe('softmax and logSoftmax backward', () => {
  const gradShapes: [number[], number][] = [
    [[3, 7], -1],
    [[3, 4, 2], 1],
    [[4, 3], 0],
    [[1], 0],
  ];
  for (const [name, op] of ops) {
    for (const [shape, axis] of gradShapes) {
      it(`gradcheck ${name} of ${JSON.stringify(shape)} along ${axis} on the CPU`, async () => {
        await gradcheck((x) => op(x, axis), [{ shape, data: randomData(size(shape), 13, 2) }]);
      });
    }
    for (const [shape, axis] of [[[5, 33], -1], [[4, 1000], -1], [[3, 7, 5], 1], [[257, 3], 0]] as [number[], number][]) {
      it(`GPU backward of ${name} matches the CPU: ${JSON.stringify(shape)} along ${axis}`, async () => {
        await compareBackward((x) => op(x, axis), [{ shape, data: randomData(size(shape), 17, 3) }], gpu, { atol: 1e-5, rtol: 1e-4 });
      });
    }
  }

  it('softmax backward of a plain sum is zero (the outputs always sum to one)', async () => {
    const x = w.fromArray(randomData(2 * 9, 3), [2, 9], { backend: gpu, requiresGrad: true });
    w.softmax(x).backward(w.ones([2, 9], { backend: gpu }));
    expectClose(await x.grad!.toArray(), new Float32Array(18), 1e-6, 0);
  });

  it('softmax composed with log gives the logSoftmax gradient', async () => {
    const data = randomData(3 * 5, 4, 2);
    const upstream = w.fromArray(randomData(15, 5), [3, 5], { backend: cpuBackend() });
    const a = w.fromArray(data, [3, 5], { backend: cpuBackend(), requiresGrad: true });
    const b = w.fromArray(data, [3, 5], { backend: cpuBackend(), requiresGrad: true });
    w.log(w.softmax(a)).backward(upstream);
    w.logSoftmax(b).backward(upstream);
    expectClose(await a.grad!.toArray(), await b.grad!.toArray(), 1e-5, 1e-4);
  });
});

describe('softmax errors', () => {
  it('names the op, the axis and the rank', () => {
    const x = w.zeros([2, 3], { backend: cpuBackend() });
    expect(() => w.softmax(x, 2)).toThrow('softmax: axis 2 is out of range for a tensor of rank 2');
    expect(() => w.logSoftmax(x, -3)).toThrow('logSoftmax: axis -3 is out of range for a tensor of rank 2');
    expect(() => w.softmax(w.zeros([2, 3], { backend: gpu }), 1.5)).toThrow('softmax: axis 1.5 is out of range');
  });
});
