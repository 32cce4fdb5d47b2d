import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { Backend, Optimizer, Tensor, WebGpuBackend } from '../src/index.ts';
import { adamReference, sgdReference } from '../src/reference/optim.ts';
import { cpuBackend, expectClose, gpuBackend, randomData } from './helpers.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

/** Replaces a param's gradient with `data` on the param's device. */
function setGrad(p: Tensor, data: ArrayLike<number>, shape: readonly number[] = p.shape): void {
  p.grad?.dispose();
  p.grad = w.Tensor.adopt(w.fromArray(Float32Array.from(data), shape, { backend: p.backend }));
}

/** Runs the optimizer over `grads` (one list of per-param gradients per step) and returns the values after each step. */
async function trajectory(opt: Optimizer, grads: number[][][]): Promise<number[][][]> {
  const out: number[][][] = [];
  for (const step of grads) {
    opt.params.forEach((p, i) => setGrad(p, step[i]));
    opt.step();
    out.push(await Promise.all(opt.params.map(async (p) => Array.from(await p.toArray()))));
  }
  return out;
}

const param = (values: number[], backend: Backend = gpu): Tensor => w.fromArray(values, [values.length], { backend, requiresGrad: true });

describe('CPU reference against hand-computed steps of PyTorch’s documented algorithms', () => {
  it('SGD with momentum, dampening and weight decay', () => {
    // lr 0.1, momentum 0.9, dampening 0.1, weight decay 0.01; p = [1, -2]; grads 0.5, -0.25, 1 for both.
    // step 1 (p = 1): d = 0.5 + 0.01·1 = 0.51; b = d = 0.51 (first step: no dampening); p = 1 − 0.1·0.51 = 0.949
    // step 2: d = −0.25 + 0.00949 = −0.24051; b = 0.9·0.51 + 0.9·d = 0.242541; p = 0.949 − 0.0242541 = 0.9247459
    // step 3: d = 1 + 0.009247459 = 1.009247459; b = 0.9·0.242541 + 0.9·d = 1.1266096131; p = 0.81208493869
    // (p = −2: d = 0.48, b = 0.48, p = −2.048; then −2.0668568; then −2.17196774888)
    const p = Float32Array.from([1, -2]);
    const b = new Float32Array(2);
    const h = { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01, nesterov: false };
    const want = [
      [0.949, -2.048],
      [0.9247459, -2.0668568],
      [0.81208493869, -2.17196774888],
    ];
    [0.5, -0.25, 1].forEach((g, k) => {
      sgdReference(p, Float32Array.from([g, g]), b, h, k === 0);
      expectClose(p, want[k], 1e-6, 1e-6, `step ${k + 1}`);
    });
  });

  it('SGD with Nesterov momentum', () => {
    // lr 0.1, momentum 0.9; p = 1; grads 0.5, −0.25, 1.
    // step 1: b = 0.5; direction = 0.5 + 0.9·0.5 = 0.95; p = 1 − 0.095 = 0.905
    // step 2: b = 0.45 − 0.25 = 0.2; direction = −0.25 + 0.18 = −0.07; p = 0.905 + 0.007 = 0.912
    // step 3: b = 0.18 + 1 = 1.18; direction = 1 + 1.062 = 2.062; p = 0.912 − 0.2062 = 0.7058
    const p = Float32Array.from([1]);
    const b = new Float32Array(1);
    const h = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: true };
    const want = [0.905, 0.912, 0.7058];
    [0.5, -0.25, 1].forEach((g, k) => {
      sgdReference(p, Float32Array.from([g]), b, h, k === 0);
      expectClose(p, [want[k]], 1e-6, 1e-6, `step ${k + 1}`);
    });
  });

  it('plain SGD with weight decay', () => {
    // lr 0.1, weight decay 0.1; p = 2: p = 2 − 0.1·(0.5 + 0.2) = 1.93; then 1.93 − 0.1·(−1 + 0.193) = 2.0107
    const p = Float32Array.from([2]);
    const h = { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0.1, nesterov: false };
    sgdReference(p, Float32Array.from([0.5]), null, h, true);
    expectClose(p, [1.93], 1e-6, 1e-6);
    sgdReference(p, Float32Array.from([-1]), null, h, false);
    expectClose(p, [2.0107], 1e-6, 1e-6);
  });

  const adamCases: { name: string; weightDecay: number; decoupled: boolean; want: number[]; derivation: string }[] = [
    {
      name: 'Adam',
      weightDecay: 0,
      decoupled: false,
      want: [0.900000002, 0.8733662987, 0.8075551397],
      // step 1: m = 0.05, v = 0.00025, bc1 = 0.1, bc2 = 0.001; p = 1 − (0.1/0.1)·0.05/(√0.25 + 1e-8) = 0.900000002
      // step 2: m = 0.045 − 0.025 = 0.02, v = 0.00024975 + 0.0000625 = 0.00031225, bc1 = 0.19, bc2 = 0.001999;
      //         p = 0.9 − (0.1/0.19)·0.02/√(0.00031225/0.001999) = 0.8733662987
      // step 3: m = 0.018 + 0.1 = 0.118, v = 0.00031193775 + 0.001 = 0.00131193775, bc1 = 0.271, bc2 = 0.002997001;
      //         p = 0.8733662987 − (0.1/0.271)·0.118/√(0.00131193775/0.002997001) = 0.8075551397
      derivation: 'lr 0.1, betas (0.9, 0.999), eps 1e-8; p = 1; grads 0.5, −0.25, 1',
    },
    {
      name: 'Adam with L2 weight decay',
      weightDecay: 0.1,
      decoupled: false,
      want: [0.9000000017, 0.8544413675, 0.7815043999],
      // step 1: g = 0.5 + 0.1·1 = 0.6, m = 0.06, v = 0.00036; p = 1 − 1·0.06/(√0.36 + 1e-8) = 0.9000000017
      // step 2: g = −0.25 + 0.09 = −0.16, m = 0.054 − 0.016 = 0.038, v = 0.00035964 + 0.0000256 = 0.00038524;
      //         p = 0.9 − (0.1/0.19)·0.038/√(0.00038524/0.001999) = 0.8544413675
      // step 3: g = 1 + 0.08544413675 = 1.08544413675, m = 0.0342 + 0.108544413675 = 0.142744413675,
      //         v = 0.00038485476 + 0.001·g² = 0.00156304375; p = 0.8544413675 − (0.1/0.271)·m/√(v/0.002997001) = 0.7815043999
      derivation: 'as Adam, weight decay 0.1 added to the gradient',
    },
    {
      name: 'AdamW',
      weightDecay: 0.1,
      decoupled: true,
      want: [0.890000002, 0.8544662987, 0.7801104767],
      // step 1: p = 1·(1 − 0.1·0.1) = 0.99, then the Adam step of −0.0999999980: 0.890000002
      // step 2: p = 0.890000002·0.99 = 0.881100002, moments as plain Adam: 0.881100002 − 0.0266337013 = 0.8544662987
      // step 3: p = 0.8544662987·0.99 = 0.8459216357, Adam step 0.0658111590: 0.7801104767
      derivation: 'as Adam, decoupled weight decay 0.1',
    },
  ];
  for (const c of adamCases) {
    it(`${c.name} (${c.derivation})`, () => {
      const p = Float32Array.from([1]);
      const m = new Float32Array(1);
      const v = new Float32Array(1);
      const h = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: c.weightDecay, decoupled: c.decoupled };
      [0.5, -0.25, 1].forEach((g, k) => {
        adamReference(p, Float32Array.from([g]), m, v, k + 1, h);
        expectClose(p, [c.want[k]], 1e-6, 1e-6, `step ${k + 1}`);
      });
    });
  }
});

describe('the optimizers follow the hand-computed steps on both devices', () => {
  // The cases above: grads 0.5, −0.25, 1 for every element; values after the third step.
  const cases: [string, (p: Tensor[]) => Optimizer, number[], number[]][] = [
    ['SGD momentum', (p) => new w.SGD(p, { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }), [1, -2], [0.81208493869, -2.17196774888]],
    ['SGD Nesterov', (p) => new w.SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true }), [1], [0.7058]],
    ['Adam', (p) => new w.Adam(p, { lr: 0.1 }), [1], [0.8075551397]],
    ['Adam with L2 weight decay', (p) => new w.Adam(p, { lr: 0.1, weightDecay: 0.1 }), [1], [0.7815043999]],
    ['AdamW', (p) => new w.AdamW(p, { lr: 0.1, weightDecay: 0.1 }), [1], [0.7801104767]],
  ];
  for (const [name, make, init, want] of cases) {
    for (const device of ['webgpu', 'cpu'] as const) {
      it(`${name} on ${device}`, async () => {
        const p = param(init, device === 'webgpu' ? gpu : cpuBackend());
        const steps = await trajectory(make([p]), [0.5, -0.25, 1].map((g) => [init.map(() => g)]));
        expectClose(steps[2][0], want, 2e-6, 2e-6, name);
      });
    }
  }
});

interface Config {
  name: string;
  make: (params: Tensor[]) => Optimizer;
  atol: number;
}

const configs: Config[] = [
  { name: 'SGD', make: (p) => new w.SGD(p, { lr: 0.1 }), atol: 1e-6 },
  { name: 'SGD weight decay', make: (p) => new w.SGD(p, { lr: 0.05, weightDecay: 0.1 }), atol: 1e-6 },
  { name: 'SGD momentum dampening', make: (p) => new w.SGD(p, { lr: 0.05, momentum: 0.9, dampening: 0.2, weightDecay: 0.01 }), atol: 1e-6 },
  { name: 'SGD Nesterov', make: (p) => new w.SGD(p, { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.001 }), atol: 1e-6 },
  { name: 'Adam', make: (p) => new w.Adam(p, { lr: 0.01 }), atol: 2e-6 },
  { name: 'Adam L2', make: (p) => new w.Adam(p, { lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.1 }), atol: 2e-6 },
  { name: 'AdamW', make: (p) => new w.AdamW(p, { lr: 0.01, betas: [0.85, 0.995], weightDecay: 0.1 }), atol: 2e-6 },
];

describe('GPU update against the CPU reference over several steps', () => {
  for (const n of [1, 7, 257, 1000]) {
    for (const c of configs) {
      it(`${c.name}, params of ${n} and 3×5 values`, async () => {
        const shapes = [[n], [3, 5]];
        const init = shapes.map((s, k) => randomData(s.reduce((a, b) => a * b, 1), 10 * n + k));
        const onGpu = shapes.map((s, k) => w.fromArray(init[k], s, { backend: gpu }));
        const onCpu = shapes.map((s, k) => w.fromArray(init[k], s, { backend: cpuBackend() }));
        const grads = [0, 1, 2, 3].map((step) => init.map((d, k) => Array.from(randomData(d.length, 100 * step + k + n, 2))));
        const got = await trajectory(c.make(onGpu), grads);
        const want = await trajectory(c.make(onCpu), grads);
        got.forEach((step, s) => step.forEach((values, k) => expectClose(values, want[s][k], c.atol, 1e-5, `${c.name} step ${s + 1} param ${k}`)));
      });
    }
  }
});

describe('optimizer behaviour', () => {
  it('zeroGrad disposes every gradient and sets it to null; a step then changes nothing', async () => {
    const a = param([1, 2, 3]);
    const b = param([4]);
    const opt = new w.SGD([a, b], { lr: 0.5, momentum: 0.9 });
    setGrad(a, [1, 1, 1]);
    setGrad(b, [1]);
    const ga = a.grad!;
    opt.step();
    opt.zeroGrad();
    expect(a.grad).toBeNull();
    expect(b.grad).toBeNull();
    expect(ga.isDisposed).toBe(true);
    opt.step();
    expectClose(await a.toArray(), [0.5, 1.5, 2.5]);
    expectClose(await b.toArray(), [3.5]);
  });

  it('uses a learning rate changed between steps', async () => {
    // p = 1, grad 1 each step: lr 0.1 then 0.01 gives 1 − 0.1 − 0.01 = 0.89.
    const p = param([1]);
    const opt = new w.SGD([p], { lr: 0.1 });
    setGrad(p, [1]);
    opt.step();
    opt.lr = 0.01;
    expect(opt.lr).toBe(0.01);
    opt.step();
    expectClose(await p.toArray(), [0.89], 1e-7, 1e-6);
    expect(() => {
      opt.lr = -1;
    }).toThrow(/SGD: lr must be a finite number >= 0, got -1/);
  });

  it('Adam with a learning rate schedule matches the CPU reference', async () => {
    const init = randomData(33, 5);
    const pg = w.fromArray(init, [33], { backend: gpu });
    const pc = w.fromArray(init, [33], { backend: cpuBackend() });
    const og = new w.Adam([pg], { lr: 0.05 });
    const oc = new w.Adam([pc], { lr: 0.05 });
    for (let s = 0; s < 4; s++) {
      const g = randomData(33, 40 + s);
      setGrad(pg, g);
      setGrad(pc, g);
      og.lr = oc.lr = 0.05 * 0.5 ** s;
      og.step();
      oc.step();
    }
    expectClose(await pg.toArray(), await pc.toArray(), 2e-6, 1e-5);
  });

  it('AdamW equals Adam without weight decay and differs from it with weight decay', async () => {
    const make = () => [param([1.5, -0.5, 2]), param([1.5, -0.5, 2])];
    const [a, b] = make();
    const adam = new w.Adam([a], { lr: 0.1 });
    const adamw = new w.AdamW([b], { lr: 0.1, weightDecay: 0 });
    await trajectory(adam, [[[0.3, -0.2, 0.1]], [[0.1, 0.4, -0.3]]]);
    await trajectory(adamw, [[[0.3, -0.2, 0.1]], [[0.1, 0.4, -0.3]]]);
    expect(Array.from(await b.toArray())).toEqual(Array.from(await a.toArray()));

    // With a zero gradient the moments stay zero: AdamW only shrinks p by 1 − lr·wd = 0.99,
    // while Adam's L2 term becomes the gradient and moves p by ≈ lr·sign(p).
    const [c, d] = make();
    expect(new w.AdamW([c]).weightDecay).toBe(1e-2);
    await trajectory(new w.Adam([c], { lr: 0.1, weightDecay: 0.1 }), [[[0, 0, 0]]]);
    await trajectory(new w.AdamW([d], { lr: 0.1, weightDecay: 0.1 }), [[[0, 0, 0]]]);
    expectClose(await c.toArray(), [1.4, -0.4, 1.9], 1e-6, 1e-6, 'Adam');
    expectClose(await d.toArray(), [1.485, -0.495, 1.98], 1e-6, 1e-6, 'AdamW');
  });

  for (const device of ['webgpu', 'cpu'] as const) {
    it(`skips params without a gradient; a param's first step counts from its own first gradient (${device})`, async () => {
      const backend = device === 'webgpu' ? gpu : cpuBackend();
      const a = param([1, 2], backend);
      const b = param([3, -4, 5], backend);
      const adam = new w.Adam([a, b], { lr: 0.1 });
      setGrad(a, [0.5, 0.5]);
      adam.step();
      adam.step();
      expect(Array.from(await b.toArray())).toEqual([3, -4, 5]);
      // b's first step: m̂ = g, v̂ = g², so p moves by lr·sign(g) (up to eps), though `a` is on its third.
      setGrad(b, [0.2, -0.3, 0.4]);
      adam.step();
      expectClose(await b.toArray(), [2.9, -3.9, 4.9], 1e-6, 1e-6, 'b after its first Adam step');

      const c = param([1], backend);
      const d = param([1], backend);
      const sgd = new w.SGD([c, d], { lr: 0.1, momentum: 0.9, dampening: 0.5 });
      setGrad(c, [1]);
      sgd.step();
      sgd.step();
      expect(Array.from(await d.toArray())).toEqual([1]);
      // d's buffer is created now and starts as its gradient (no dampening): 1 − 0.1·2 = 0.8.
      setGrad(d, [2]);
      sgd.step();
      expectClose(await d.toArray(), [0.8], 1e-7, 1e-6, 'd after its first SGD step');
    });
  }

  it('accepts empty params', async () => {
    const e = w.zeros([0]);
    const p = param([1]);
    for (const opt of [new w.SGD([e, p], { lr: 1, momentum: 0.5 }), new w.Adam([e, p], { lr: 1 })]) {
      setGrad(e, [], [0]);
      setGrad(p, [1]);
      opt.step();
    }
    expectClose(await p.toArray(), [-1], 1e-6, 1e-6);
  });

  it('steps inside tidy with gradients from backward(), keeping its state', async () => {
    const init = randomData(7, 9);
    const pg = w.fromArray(init, [7], { backend: gpu, requiresGrad: true });
    const pc = w.fromArray(init, [7], { backend: cpuBackend(), requiresGrad: true });
    const og = new w.Adam([pg], { lr: 0.1 });
    const oc = new w.Adam([pc], { lr: 0.1 });
    for (let s = 0; s < 3; s++) {
      for (const [p, opt] of [[pg, og], [pc, oc]] as const) {
        w.tidy(() => {
          opt.zeroGrad();
          // d/dp Σ p² = 2p
          w.mul(p, p).backward(w.onesLike(p));
          opt.step();
        });
      }
    }
    expectClose(await pg.toArray(), await pc.toArray(), 2e-6, 1e-5);
    expect(Array.from(await pg.toArray())).not.toEqual(Array.from(init));
  });
});

describe('a failed step leaves every parameter unchanged', () => {
  const makers: [string, (p: Tensor[]) => Optimizer][] = [
    ['SGD', (p) => new w.SGD(p, { lr: 0.1, momentum: 0.9 })],
    ['Adam', (p) => new w.Adam(p, { lr: 0.1 })],
    ['AdamW', (p) => new w.AdamW(p, { lr: 0.1 })],
  ];
  for (const [name, make] of makers) {
    it(`${name}: a bad gradient on the 3rd param updates neither the 1st nor the 2nd, nor any state`, async () => {
      const values = [[1, 2], [3, 4, 5], Array.from({ length: 12 }, (_, i) => i)];
      const grads = [[0.5, -0.5], [1, 1, 1], new Array<number>(12).fill(1)];
      const shapes = [[2], [3], [3, 4]];
      const params = values.map((v, k) => w.fromArray(v, shapes[k]));
      const opt = make(params);
      params.forEach((p, k) => setGrad(p, grads[k], k === 2 ? [4, 3] : p.shape));
      expect(() => opt.step()).toThrow(new RegExp(`${name}.step: param 2 has shape \\[3, 4\\] but its gradient has shape \\[4, 3\\]`));
      expect(Array.from(await params[0].toArray())).toEqual(values[0]);
      expect(Array.from(await params[1].toArray())).toEqual(values[1]);

      // Fixed, the step is the first one: the same as a fresh optimizer's.
      setGrad(params[2], grads[2]);
      opt.step();
      const fresh = values.map((v, k) => w.fromArray(v, shapes[k]));
      fresh.forEach((f, k) => setGrad(f, grads[k]));
      make(fresh).step();
      for (let k = 0; k < 3; k++) expect(Array.from(await params[k].toArray())).toEqual(Array.from(await fresh[k].toArray()));
    });
  }

  it('names the param in every validation error', () => {
    const a = param([1, 2]);
    const b = param([3]);
    const opt = new w.Adam([a, b]);
    setGrad(b, [1]);

    b.grad!.dispose();
    expect(() => opt.step()).toThrow(/Adam.step: the gradient of param 1 \(shape \[1\]\) was disposed/);

    setGrad(b, [1], [1]);
    const onCpu = w.fromArray([1], [1], { backend: cpuBackend() });
    b.grad = w.Tensor.adopt(onCpu);
    expect(() => opt.step()).toThrow(/Adam.step: param 1 is on webgpu.* but its gradient is on cpu/);

    b.grad = b.detach();
    expect(() => opt.step()).toThrow(/Adam.step: the gradient of param 1 shares storage with the param/);
    b.grad = null;

    const c = param([1], cpuBackend());
    expect(() => new w.SGD([a, c], { lr: 1 }).step()).toThrow(/SGD.step: all parameters must be on one device; param 0 is on webgpu.*, param 1 \(shape \[1\]\) is on cpu/);

    b.dispose();
    expect(() => opt.step()).toThrow(/Adam.step: param 1 of shape \[1\] was disposed/);
  });
});

describe('constructor errors', () => {
  it('rejects bad parameter lists and hyperparameters, naming the option', () => {
    const p = param([1]);
    expect(() => new w.SGD([], { lr: 0.1 })).toThrow(/SGD: got an empty parameter list/);
    expect(() => new w.Adam([p, p])).toThrow(/Adam: params 0 and 1 share storage/);
    expect(() => new w.SGD([p, p.detach()], { lr: 0.1 })).toThrow(/SGD: params 0 and 1 share storage/);
    expect(() => new w.SGD([p], { lr: -0.1 })).toThrow(/SGD: lr must be a finite number >= 0, got -0.1/);
    expect(() => new w.SGD([p], { lr: 0.1, momentum: -1 })).toThrow(/SGD: momentum must be a finite number >= 0, got -1/);
    expect(() => new w.SGD([p], { lr: 0.1, weightDecay: -1 })).toThrow(/SGD: weightDecay must be/);
    expect(() => new w.SGD([p], { lr: 0.1, nesterov: true })).toThrow(/SGD: Nesterov momentum requires a momentum > 0 and zero dampening, got momentum 0 and dampening 0/);
    expect(() => new w.SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(/dampening 0.1/);
    expect(() => new w.Adam([p], { betas: [1, 0.999] })).toThrow(/Adam: betas\[0\] must be a finite number in \[0, 1\), got 1/);
    expect(() => new w.AdamW([p], { betas: [0.9, -0.1] })).toThrow(/AdamW: betas\[1\] must be a finite number in \[0, 1\), got -0.1/);
    expect(() => new w.Adam([p], { eps: -1 })).toThrow(/Adam: eps must be a finite number >= 0, got -1/);
    expect(() => new w.AdamW([p], { weightDecay: Number.NaN })).toThrow(/AdamW: weightDecay must be a finite number >= 0, got NaN/);
  });
});

describe('resources', () => {
  it('per-parameter steady steps create no buffers, pipelines or bind groups, with one dispatch per param (plus one for Adam’s step counts)', async () => {
    for (const make of [(p: Tensor[]) => new w.SGD(p, { lr: 0.01, momentum: 0.9, nesterov: true, foreach: false }), (p: Tensor[]) => new w.AdamW(p, { foreach: false })]) {
      const params = [param(Array.from(randomData(257, 1))), param([1, 2, 3]), param(Array.from(randomData(33, 2)))];
      params.forEach((p, k) => setGrad(p, randomData(p.size, 3 + k)));
      const opt = make(params);
      opt.step();
      opt.step();
      await gpu.sync();
      const before = { ...gpu.counters, created: gpu.memory().createdBuffers, live: gpu.memory().liveBuffers };
      for (let s = 0; s < 5; s++) opt.step();
      await gpu.sync();
      expect(gpu.counters.pipelines).toBe(before.pipelines);
      expect(gpu.counters.bindGroups).toBe(before.bindGroups);
      expect(gpu.memory().createdBuffers).toBe(before.created);
      expect(gpu.memory().liveBuffers).toBe(before.live);
      const perStep = opt instanceof w.Adam ? params.length + 1 : params.length;
      expect(gpu.counters.dispatches - before.dispatches).toBe(5 * perStep);
    }
  });

  it('dispose frees the state, after which step throws', () => {
    const params = [param([1, 2, 3]), param([4, 5])];
    params.forEach((p) => setGrad(p, new Array(p.size).fill(1)));
    const live = gpu.memory().liveBuffers;
    const opt = new w.Adam(params, { foreach: false });
    opt.step();
    // Two moments per param and the step counts.
    expect(gpu.memory().liveBuffers).toBe(live + 5);
    opt.dispose();
    expect(gpu.memory().liveBuffers).toBe(live);
    expect(() => opt.step()).toThrow(/Adam.step: the optimizer was disposed/);
  });
});
