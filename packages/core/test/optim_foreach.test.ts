import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { Backend, Optimizer, Tensor, WebGpuBackend } from '../src/index.ts';
import { FLAT_CHUNK } from '../src/kernels/optim.ts';
import { cpuBackend, expectClose, gpuBackend, randomData } from './helpers.ts';

// Updates of every parameter at once (`foreach`, the default) against one dispatch per
// parameter: the same arithmetic, so the same values, on odd sizes, a parameter spanning
// several chunks, an empty one, and parameters that skip steps.

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

function setGrad(p: Tensor, data: ArrayLike<number>): void {
  p.grad?.dispose();
  p.grad = w.Tensor.adopt(w.fromArray(Float32Array.from(data), p.shape, { backend: p.backend }));
}

type Make = (params: Tensor[], foreach: boolean) => Optimizer;

const configs: [string, Make][] = [
  ['SGD', (p, foreach) => new w.SGD(p, { lr: 0.1, weightDecay: 0.01, foreach })],
  ['SGD momentum dampening', (p, foreach) => new w.SGD(p, { lr: 0.05, momentum: 0.9, dampening: 0.2, weightDecay: 0.01, foreach })],
  ['SGD Nesterov', (p, foreach) => new w.SGD(p, { lr: 0.05, momentum: 0.8, nesterov: true, foreach })],
  ['Adam L2', (p, foreach) => new w.Adam(p, { lr: 0.01, betas: [0.8, 0.99], weightDecay: 0.1, foreach })],
  ['AdamW', (p, foreach) => new w.AdamW(p, { lr: 0.01, weightDecay: 0.1, foreach })],
];

// A parameter over two chunks (the last one partial), odd sizes, an empty one.
const SHAPES = [[FLAT_CHUNK + 77], [3, 5], [0], [1], [257]];

/** The params' values after each of four steps; param 1 has no gradient at step 2 and param 3 none before step 3. */
async function run(make: Make, foreach: boolean, backend: Backend): Promise<number[][][]> {
  const params = SHAPES.map((s, k) => w.fromArray(randomData(s.reduce((a, b) => a * b, 1), 7 + k), s, { backend, requiresGrad: true }));
  const opt = make(params, foreach);
  const out: number[][][] = [];
  for (let step = 0; step < 4; step++) {
    params.forEach((p, k) => {
      const skip = (k === 1 && step === 1) || (k === 3 && step < 2);
      if (skip) {
        p.grad?.dispose();
        p.grad = null;
      } else setGrad(p, randomData(p.size, 100 * step + k, 2));
    });
    opt.step();
    out.push(await Promise.all(params.map(async (p) => Array.from(await p.toArray()))));
  }
  opt.dispose();
  for (const p of params) p.dispose();
  return out;
}

describe('foreach updates equal per-parameter updates', () => {
  for (const [name, make] of configs) {
    it(`${name} on the GPU, and on the CPU`, async () => {
      const flat = await run(make, true, gpu);
      const each = await run(make, false, gpu);
      flat.forEach((step, s) => step.forEach((values, k) => expectClose(values, each[s][k], 1e-7, 1e-6, `${name} GPU step ${s + 1} param ${k}`)));
      const flatCpu = await run(make, true, cpuBackend());
      const eachCpu = await run(make, false, cpuBackend());
      expect(flatCpu).toEqual(eachCpu);
      flat.forEach((step, s) => step.forEach((values, k) => expectClose(values, flatCpu[s][k], 2e-6, 1e-5, `${name} GPU against CPU step ${s + 1} param ${k}`)));
    });
  }
});

describe('the parameters move into the optimizer’s buffer', () => {
  it('keep their values, and views made before the first step follow them', async () => {
    const p = w.fromArray([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    const view = w.reshape(p, [6]);
    const opt = new w.SGD([p], { lr: 0.5 });
    setGrad(p, [1, 1, 1, 1, 1, 1]);
    opt.step();
    expectClose(await p.toArray(), [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]);
    expectClose(await view.toArray(), [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]);
    opt.dispose();
    // The params outlive the optimizer.
    expectClose(await p.toArray(), [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]);
    view.dispose();
    p.dispose();
  });

  it('two optimizers over the same params take turns, each keeping its state', async () => {
    const values = async (foreach: boolean): Promise<number[]> => {
      const params = [w.fromArray(randomData(9, 1), [9], { requiresGrad: true }), w.fromArray(randomData(4, 2), [4], { requiresGrad: true })];
      const a = new w.SGD(params, { lr: 0.1, momentum: 0.9, foreach });
      const b = new w.Adam(params, { lr: 0.01, foreach });
      for (const [k, opt] of [a, b, a, b, a].entries()) {
        params.forEach((p, i) => setGrad(p, randomData(p.size, 10 * k + i)));
        opt.step();
      }
      const out = [...(await params[0].toArray()), ...(await params[1].toArray())];
      a.dispose();
      b.dispose();
      for (const p of params) p.dispose();
      return out;
    };
    expectClose(await values(true), await values(false), 1e-7, 1e-6);
  });

  it('frees what it made: the state with dispose, the params’ storage with the params', async () => {
    const start = gpu.memory();
    const params = [w.fromArray(randomData(300, 1), [300], { requiresGrad: true }), w.fromArray([1, 2], [2], { requiresGrad: true })];
    params.forEach((p) => setGrad(p, randomData(p.size, 3)));
    const opt = new w.Adam(params);
    opt.step();
    opt.step();
    opt.dispose();
    for (const p of params) p.dispose();
    await gpu.sync();
    expect(gpu.memory().liveBuffers).toBe(start.liveBuffers);
    expect(gpu.memory().liveBytes).toBe(start.liveBytes);
  });
});

describe('dispatches and resources per step', () => {
  it('SGD takes one dispatch and Adam two per step, however many params; a schedule creates nothing', async () => {
    for (const [make, perStep] of [
      [(p: Tensor[]) => new w.SGD(p, { lr: 0.1, momentum: 0.9 }), 1],
      [(p: Tensor[]) => new w.AdamW(p, { lr: 0.01 }), 2],
    ] as const) {
      const params = Array.from({ length: 12 }, (_, k) => w.fromArray(randomData(5 + 37 * k, k), [5 + 37 * k], { requiresGrad: true }));
      params.forEach((p, k) => setGrad(p, randomData(p.size, 50 + k)));
      const opt = make(params);
      const schedule = new w.CosineAnnealingLR(opt, { tMax: 100 });
      for (let s = 0; s < 2; s++) {
        opt.step();
        schedule.step();
      }
      await gpu.sync();
      const before = { ...gpu.counters, created: gpu.memory().createdBuffers };
      for (let s = 0; s < 5; s++) {
        opt.step();
        schedule.step();
      }
      await gpu.sync();
      expect(gpu.counters.dispatches - before.dispatches).toBe(5 * perStep);
      expect({ bindGroups: gpu.counters.bindGroups, uniformBuffers: gpu.counters.uniformBuffers, pipelines: gpu.counters.pipelines, created: gpu.memory().createdBuffers }).toEqual({
        bindGroups: before.bindGroups,
        uniformBuffers: before.uniformBuffers,
        pipelines: before.pipelines,
        created: before.created,
      });
      opt.dispose();
      for (const p of params) p.dispose();
    }
  });
});
