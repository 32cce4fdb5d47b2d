import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { Tensor, WebGpuBackend } from '../src/index.ts';
import { cpuBackend, expectTensorsClose, gpuBackend, onBoth, randomData } from './helpers.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

const unaryCases: [string, (x: Tensor) => Tensor, (i: number) => number][] = [
  ['neg', w.neg, (v) => v],
  ['exp', w.exp, (v) => v],
  ['log', w.log, (v) => Math.abs(v) + 0.05],
  ['sqrt', w.sqrt, (v) => Math.abs(v) + 0.05],
  ['rsqrt', w.rsqrt, (v) => Math.abs(v) + 0.05],
  ['relu', w.relu, (v) => v],
  ['sigmoid', w.sigmoid, (v) => v * 4],
  ['tanh', w.tanh, (v) => v * 3],
  ['abs', w.abs, (v) => v],
  ['square', w.square, (v) => v],
  ['affine', (x) => w.affine(x, -1.5, 0.25), (v) => v],
  ['powScalar', (x) => w.powScalar(x, 3), (v) => v],
  ['powScalar fractional', (x) => w.powScalar(x, 0.5), (v) => Math.abs(v)],
];

describe('unary ops: WebGPU against the CPU reference', () => {
  for (const n of [1, 7, 33, 257, 70_001]) {
    for (const [name, op, domain] of unaryCases) {
      it(`${name} on ${n} values`, async () => {
        const data = randomData(n, n + name.length).map(domain);
        const [g, c] = onBoth(Float32Array.from(data), [n], gpu);
        await expectTensorsClose(op(g), op(c), 1e-5, 2e-5, name);
      });
    }
  }
});

const binaryCases: [string, (a: Tensor, b: Tensor) => Tensor][] = [
  ['add', w.add],
  ['sub', w.sub],
  ['mul', w.mul],
  ['div', w.div],
  ['maximum', w.maximum],
  ['minimum', w.minimum],
  ['gt', w.gt],
];

const broadcastShapes: [number[], number[]][] = [
  [[7], [7]],
  [[33, 5], [5]],
  [[3, 1, 7], [1, 5, 1]],
  [[2, 3, 4, 5], [3, 1, 5]],
  [[1], [257]],
  [[], [4, 3]],
];

describe('binary ops with broadcasting: WebGPU against the CPU reference', () => {
  for (const [sa, sb] of broadcastShapes) {
    for (const [name, op] of binaryCases) {
      it(`${name} ${JSON.stringify(sa)} ⊕ ${JSON.stringify(sb)}`, async () => {
        const na = sa.reduce((p, d) => p * d, 1);
        const nb = sb.reduce((p, d) => p * d, 1);
        const [ga, ca] = onBoth(randomData(na, 1), sa, gpu);
        let bData = randomData(nb, 2);
        if (name === 'div') bData = bData.map((v) => (v >= 0 ? v + 0.5 : v - 0.5));
        const [gb, cb] = onBoth(bData, sb, gpu);
        await expectTensorsClose(op(ga, gb), op(ca, cb), 1e-6, 1e-5, name);
      });
    }
  }

  it('pow with negative bases and integral exponents follows PyTorch', async () => {
    const a = [-2, -2, 0, 0, 3, -8];
    const b = [2, 3, 0, 2, 0.5, 1 / 3];
    const [ga, ca] = onBoth(Float32Array.from(a), [6], gpu);
    const [gb, cb] = onBoth(Float32Array.from(b), [6], gpu);
    const got = await w.pow(ga, gb).toArray();
    expect(Array.from(got.slice(0, 5))).toEqual([4, -8, 1, 0, Math.fround(Math.sqrt(3))]);
    expect(Number.isNaN(got[5])).toBe(true);
    await expectTensorsClose(w.pow(ga, gb), w.pow(ca, cb), 1e-6, 1e-6, 'pow');
  });

  it('rejects shapes that do not broadcast, naming the op and both shapes', () => {
    const a = w.zeros([2, 3]);
    const b = w.zeros([4]);
    expect(() => w.add(a, b)).toThrow(/add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
  });

  it('rejects tensors on different devices', () => {
    const a = w.zeros([2]);
    const b = w.zeros([2], { backend: cpuBackend() });
    expect(() => w.mul(a, b)).toThrow(/mul: all tensors must be on one device/);
  });

  it('rejects reading or using a disposed tensor', async () => {
    const a = w.ones([3]);
    a.dispose();
    await expect(a.toArray()).rejects.toThrow(/toArray: tensor #\d+ of shape \[3\] was disposed/);
    expect(() => w.exp(a)).toThrow(/exp: tensor #\d+ of shape \[3\] was disposed/);
  });
});

describe('relu and NaN', () => {
  it('keeps a NaN on both backends, as PyTorch does, alone and fused after batch norm', async () => {
    const data = Float32Array.of(NaN, -1, 2, -0, -Infinity, Infinity, 3);
    const [g, c] = onBoth(data, [7], gpu);
    for (const t of [g, c]) {
      const got = Array.from(await w.relu(t).toArray());
      expect(got.map(Number.isNaN)).toEqual([true, false, false, false, false, false, false]);
      expect(got.slice(1)).toEqual([0, 2, 0, 0, Infinity, 3]);
    }
    // A NaN in a channel makes that channel's statistics NaN; the fused ReLU must not hide it.
    const x = w.fromArray([NaN, 1, 2, 3, 4, 5, 6, 7], [2, 2, 2]);
    const y = await w.batchNorm(x, { weight: w.ones([2]), bias: w.zeros([2]), training: true, relu: true }).toArray();
    expect([0, 1, 4, 5].map((i) => Number.isNaN(y[i]))).toEqual([true, true, true, true]);
    expect([2, 3, 6, 7].some((i) => Number.isNaN(y[i]))).toBe(false);
  });
});
