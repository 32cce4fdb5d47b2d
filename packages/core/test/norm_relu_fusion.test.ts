import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { Backend, Tensor, WebGpuBackend } from '../src/index.ts';
import { cpuBackend, expectClose, gpuBackend, randomData } from './helpers.ts';

// A normalization's output is deferred; relu() on it, before anything else reads it, runs the
// normalization's kernel with the ReLU fused. These tests check that the deferral and the
// fusion never change a value or a gradient, whatever happens between the two calls.

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** Computes the values of a deferred tensor, so that a following relu() runs on its own. */
const materialize = (t: Tensor): Tensor => t.realize();

interface Norm {
  name: string;
  shape: number[];
  channels: number;
  run: (x: Tensor, weight: Tensor, bias: Tensor, training: boolean) => Tensor;
}

const norms: Norm[] = [
  { name: 'batchNorm (training)', shape: [5, 3, 7, 3], channels: 3, run: (x, weight, bias) => w.batchNorm(x, { weight, bias, training: true }) },
  {
    name: 'batchNorm (evaluation)',
    shape: [3, 3, 5],
    channels: 3,
    run: (x, weight, bias) => w.batchNorm(x, { weight, bias, training: false, runningMean: w.fromArray([0.2, -0.1, 0.4], [3], { backend: x.backend }), runningVar: w.fromArray([0.5, 2, 1.5], [3], { backend: x.backend }) }),
  },
  { name: 'groupNorm', shape: [2, 6, 5, 3], channels: 6, run: (x, weight, bias) => w.groupNorm(x, 3, { weight, bias }) },
  { name: 'instanceNorm', shape: [2, 3, 5, 7], channels: 3, run: (x, weight, bias) => w.instanceNorm(x, { weight, bias }) },
];

/** relu(norm(x))·g summed, backward; returns the output and the gradients of x, weight and bias. */
async function forwardBackward(norm: Norm, backend: Backend, fuse: boolean): Promise<Float32Array[]> {
  const n = size(norm.shape);
  const x = w.fromArray(randomData(n, 3, 2).map((v) => v + 0.3), norm.shape, { backend, requiresGrad: true });
  const weight = w.fromArray(randomData(norm.channels, 4).map((v) => 1 + 0.5 * v), [norm.channels], { backend, requiresGrad: true });
  const bias = w.fromArray(randomData(norm.channels, 5), [norm.channels], { backend, requiresGrad: true });
  const g = w.fromArray(randomData(n, 6), norm.shape, { backend });
  const y = w.tidy(() => {
    const t = norm.run(x, weight, bias, true);
    const out = w.relu(fuse ? t : materialize(t));
    w.sum(w.mul(out, g)).backward();
    return out;
  });
  return Promise.all([y, x.grad!, weight.grad!, bias.grad!].map((t) => t.toArray()));
}

describe('norm followed by relu', () => {
  for (const norm of norms) {
    it(`${norm.name}: fused equals unfused, forward and backward, on the GPU and the CPU reference`, async () => {
      const want = await forwardBackward(norm, cpuBackend(), false);
      for (const [backend, fuse] of [[cpuBackend(), true], [gpu, true], [gpu, false]] as const) {
        const got = await forwardBackward(norm, backend, fuse);
        got.forEach((v, i) => expectClose(v, want[i], 1e-4, 1e-4, `${norm.name} ${backend.description} fuse=${fuse} [${['y', 'dx', 'dweight', 'dbias'][i]}]`));
      }
      expect(Math.min(...want[0])).toBe(0);
    });
  }

  it('runs as one pass: relu(batchNorm(x)) takes the dispatches of the fused op, and the unread norm output none', async () => {
    const x = w.randn([4, 3, 5, 5], { seed: 1 });
    const [weight, bias] = [w.ones([3]), w.zeros([3])];
    const count = (f: () => Tensor): number => {
      const before = gpu.counters.dispatches;
      w.tidy(() => {
        f();
      });
      return gpu.counters.dispatches - before;
    };
    const fused = count(() => w.relu(w.batchNorm(x, { weight, bias, training: true })));
    const functional = count(() => materialize(w.batchNorm(x, { weight, bias, training: true, relu: true })));
    const unfused = count(() => w.relu(materialize(w.batchNorm(x, { weight, bias, training: true }))));
    expect(fused).toBe(functional);
    expect(unfused).toBe(fused + 1);
    const normAlone = count(() => materialize(w.batchNorm(x, { weight, bias, training: true })));
    const statsOnly = count(() => w.batchNorm(x, { weight, bias, training: true }));
    expect(normAlone).toBe(statsOnly + 1);
  });

  it('the norm output stays readable after the fused relu: a hook that keeps it sees pre-ReLU values', async () => {
    const x = w.randn([4, 2, 3, 3], { seed: 2 });
    const t = w.groupNorm(x, 2);
    const r = w.relu(t);
    const [tv, rv] = [await t.toArray(), await r.toArray()];
    expect(Math.min(...tv)).toBeLessThan(0);
    expectClose(rv, tv.map((v) => Math.max(v, 0)), 1e-6, 0, 'relu(t)');
  });

  it('keeps the values of the call when an input is written in place before the output is read', async () => {
    for (const backend of [gpu, cpuBackend()]) {
      const x = w.fromArray(randomData(2 * 3 * 4, 7, 2), [2, 3, 4], { backend });
      const weight = w.fromArray([1, 2, 3], [3], { backend });
      const bias = w.fromArray([0.5, -0.5, 0], [3], { backend });
      const want = await materialize(w.batchNorm(x, { weight, bias, training: true })).toArray();
      const t = w.batchNorm(x, { weight, bias, training: true });
      const r = w.relu(t);
      // An optimizer step, a load and an in-place change of the input, all before t is read.
      const opt = new w.SGD([weight.requireGrad(), bias.requireGrad()], { lr: 10 });
      weight.grad = w.Tensor.adopt(w.ones([3], { backend }));
      bias.grad = w.Tensor.adopt(w.ones([3], { backend }));
      opt.step();
      w.assign(bias, new Float32Array([9, 9, 9]));
      w.assign(x, w.zeros([2, 3, 4], { backend }));
      expectClose(await t.toArray(), want, 1e-5, 1e-5, `${backend.description}: norm output read after its inputs changed`);
      expectClose(await r.toArray(), want.map((v) => Math.max(v, 0)), 1e-5, 1e-5, `${backend.description}: relu output`);
      // A relu applied after the inputs changed reads the kept values too (no fusion then).
      const t2 = w.batchNorm(w.fromArray(randomData(2 * 3 * 4, 7, 2), [2, 3, 4], { backend }), { weight, bias, training: true });
      const want2 = await materialize(w.batchNorm(w.fromArray(randomData(2 * 3 * 4, 7, 2), [2, 3, 4], { backend }), { weight, bias, training: true })).toArray();
      w.assign(weight, new Float32Array([0, 0, 0]));
      expectClose(await w.relu(t2).toArray(), want2.map((v) => Math.max(v, 0)), 1e-5, 1e-5, `${backend.description}: relu after an input changed`);
      opt.dispose();
    }
  });

  it('keeps the values when the inputs are disposed, and frees everything when the output is disposed unread', async () => {
    const x = w.randn([3, 2, 4], { seed: 5 });
    const weight = w.fromArray([2, -1], [2]);
    const want = await materialize(w.batchNorm(x, { weight, training: true })).toArray();
    const before = w.memory().liveBytes;
    const t = w.batchNorm(x, { weight, training: true });
    x.dispose();
    weight.dispose();
    expectClose(await t.toArray(), want, 1e-5, 1e-5, 'output read after its inputs were disposed');
    t.dispose();
    const v = w.randn([3, 4], { seed: 6 });
    const u = w.layerNorm(v, [4]);
    v.dispose();
    u.dispose();
    w.tidy(() => w.relu(w.groupNorm(w.randn([2, 4, 3], { seed: 7 }), 2)));
    expect(w.memory().liveBytes).toBeLessThanOrEqual(before);
  });

  it('gradients meet where the norm output feeds relu and another op', async () => {
    // loss = Σ relu(t)·g + Σ t·h: the fused op and t's own op both send gradients to x.
    const run = async (backend: Backend, fuse: boolean): Promise<Float32Array[]> => {
      const x = w.fromArray(randomData(4 * 3 * 5, 8, 2), [4, 3, 5], { backend, requiresGrad: true });
      const weight = w.fromArray([1.5, 0.5, 1], [3], { backend, requiresGrad: true });
      const [g, h] = [9, 10].map((seed) => w.fromArray(randomData(60, seed), [4, 3, 5], { backend }));
      w.tidy(() => {
        const t = w.batchNorm(x, { weight, training: true });
        const r = w.relu(fuse ? t : materialize(t));
        w.add(w.sum(w.mul(r, g)), w.sum(w.mul(t, h))).backward();
      });
      return Promise.all([x.grad!.toArray(), weight.grad!.toArray()]);
    };
    const want = await run(cpuBackend(), false);
    const got = await run(gpu, true);
    got.forEach((v, i) => expectClose(v, want[i], 1e-4, 1e-4, ['dx', 'dweight'][i]));
  });

  it('fuses only where relu would be recorded alike: under noGrad, and for a norm made without gradients', async () => {
    const x = w.randn([3, 2, 4], { seed: 11 }).requireGrad();
    const r = w.noGrad(() => w.relu(w.batchNorm(x, { training: true })));
    expect(r.requiresGrad).toBe(false);
    const t = w.noGrad(() => w.batchNorm(x, { training: true }));
    const r2 = w.relu(t);
    expect(r2.requiresGrad).toBe(false);
    expect(r2.gradFn).toBeNull();
    const r3 = w.relu(w.batchNorm(x, { training: true }));
    expect(r3.gradFn?.op).toBe('batchNorm');
  });
});
