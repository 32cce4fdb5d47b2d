import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { Tensor, WebGpuBackend } from '../src/index.ts';
import { chunkCount, reductionGeometry } from '../src/kernels/reduction_plan.ts';
import { Random } from '../src/util/random.ts';
import { compareBackward, gradcheck } from './gradcheck.ts';
import { cpuBackend, expectClose, expectTensorsClose, gpuBackend, onBoth, randomData } from './helpers.ts';
import { reductions, size, type Axes } from './reduce_cases.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});


// Shapes cover the one-thread-per-output path (short reductions), the workgroup path
// (one workgroup per output, strided or contiguous) and the split two-level path.
const cases: [number[], Axes, boolean][] = [
  [[1], undefined, false],
  [[7], undefined, false],
  [[257], undefined, false],
  [[7, 33, 5], [0, 2], false],
  [[3, 1, 4, 5], [1, 3], true],
  [[2, 3, 4, 5], [-1, 0], false],
  [[33, 65], 0, true],
  [[5, 300], -1, false],
  [[4, 6, 7], [0, 1, 2], true],
  [[3, 20_000], 1, false],
  [[10_001, 3], 0, false],
];

describe('reductions: WebGPU against the CPU reference', () => {
  for (const [shape, axes, keepDims] of cases) {
    for (const [name, op] of reductions) {
      it(`${name} of ${JSON.stringify(shape)} over ${JSON.stringify(axes)}${keepDims ? ' keepDims' : ''}`, async () => {
        const [g, c] = onBoth(randomData(size(shape), shape.length * 31 + size(shape)), shape, gpu);
        const want = op(c, axes, keepDims);
        await expectTensorsClose(op(g, axes, keepDims), want, 2e-5, 1e-4, name);
      });
    }
  }

  it('splits a long reduction into few outputs across workgroups (two dispatches), and not a short one', () => {
    expect(chunkCount(reductionGeometry([1_000_003], [0]))).toBeGreaterThan(1);
    expect(chunkCount(reductionGeometry([3, 20_000], [1]))).toBeGreaterThan(1);
    expect(chunkCount(reductionGeometry([257], [0]))).toBe(1);
    expect(chunkCount(reductionGeometry([4096, 300], [1]))).toBe(1);
    const x = w.zeros([3, 20_000]);
    const before = gpu.counters.dispatches;
    w.sum(x, 1);
    expect(gpu.counters.dispatches - before).toBe(2);
    const small = w.zeros([5, 300]);
    const mid = gpu.counters.dispatches;
    w.sum(small, 1);
    expect(gpu.counters.dispatches - mid).toBe(1);
  });

  it('two-level reductions into several outputs match the reference (sum, max, variance of [3, 20001] over axis 1)', async () => {
    const shape = [3, 20_001];
    const [g, c] = onBoth(randomData(size(shape), 5, 3).map((v) => v + 100), shape, gpu);
    await expectTensorsClose(w.sum(g, 1), w.sum(c, 1), 1e-2, 1e-5, 'sum');
    await expectTensorsClose(w.max(g, 1), w.max(c, 1), 0, 0, 'max');
    await expectTensorsClose(w.variance(g, 1), w.variance(c, 1), 1e-4, 1e-4, 'variance');
  });
});

describe('large reductions', () => {
  const n = 1_000_003;
  const data = new Float32Array(n);
  const rng = new Random(3);
  for (let i = 0; i < n; i++) data[i] = rng.uniform();

  it(`sum, mean, max and variance of ${n} values match the float64 reference`, async () => {
    const [g, c] = onBoth(data, [n], gpu);
    // Float32 partial sums of ~5e5 stay within a few ulps of the total.
    await expectTensorsClose(w.sum(g), w.sum(c), 0, 1e-5, 'sum');
    await expectTensorsClose(w.mean(g), w.mean(c), 0, 1e-5, 'mean');
    await expectTensorsClose(w.max(g), w.max(c), 0, 0, 'max');
    await expectTensorsClose(w.min(g), w.min(c), 0, 0, 'min');
    await expectTensorsClose(w.variance(g), w.variance(c), 0, 1e-4, 'variance');
  });

  it('variance with mean 1e4 and std 1 is right to 1e-3 relative in float32 (one and two levels)', async () => {
    const shifted = new Float32Array(n);
    const r = new Random(9);
    for (let i = 0; i < n; i++) shifted[i] = 1e4 + r.normal();
    const [g, c] = onBoth(shifted, [n], gpu);
    const want = await w.variance(c).item();
    expect(Math.abs(want - 1)).toBeLessThan(0.01);
    expectClose([await w.variance(g).item()], [want], 0, 1e-3, 'two-level variance');
    // [8, 3000] over axis 1: one workgroup per row, a single level.
    const rows = shifted.subarray(0, 24_000);
    const [gr, cr] = onBoth(rows, [8, 3000], gpu);
    await expectTensorsClose(w.variance(gr, 1), w.variance(cr, 1), 0, 1e-3, 'one-level variance');
    await expectTensorsClose(w.std(gr, 1, { correction: 0 }), w.std(cr, 1, { correction: 0 }), 0, 1e-3, 'one-level std');
    // Short rows: one thread per row.
    const [gs, cs] = onBoth(rows.subarray(0, 700), [100, 7], gpu);
    await expectTensorsClose(w.variance(gs, 1), w.variance(cs, 1), 0, 1e-3, 'per-thread variance');
  });
});

describe('reduction semantics', () => {
  const x = () => w.fromArray([1, 2, 3, 4, 5, 6], [2, 3]);

  it('computes known values', async () => {
    expect(Array.from(await w.sum(x(), 0).toArray())).toEqual([5, 7, 9]);
    expect(Array.from(await w.sum(x(), 1).toArray())).toEqual([6, 15]);
    expect(await w.mean(x()).item()).toBe(3.5);
    expect(Array.from(await w.max(x(), -1).toArray())).toEqual([3, 6]);
    expect(Array.from(await w.min(x(), 0).toArray())).toEqual([1, 2, 3]);
    expectClose(await w.variance(x()).toArray(), [3.5], 1e-6, 1e-6);
    expectClose(await w.variance(x(), 1, { correction: 0 }).toArray(), [2 / 3, 2 / 3], 1e-6, 1e-6);
    expectClose(await w.std(x(), 0).toArray(), [Math.SQRT2 * 1.5, Math.SQRT2 * 1.5, Math.SQRT2 * 1.5], 1e-6, 1e-6);
  });

  it('gives output shapes with and without keepDims, 0-d for full reductions', () => {
    const t = w.zeros([2, 3, 4]);
    expect([...w.sum(t).shape]).toEqual([]);
    expect([...w.sum(t, undefined, true).shape]).toEqual([1, 1, 1]);
    expect([...w.mean(t, [0, -1]).shape]).toEqual([3]);
    expect([...w.max(t, [0, -1], true).shape]).toEqual([1, 3, 1]);
    expect([...w.variance(t, 1, { keepDims: true }).shape]).toEqual([2, 1, 4]);
    expect([...w.sum(w.zeros([]), undefined).shape]).toEqual([]);
  });

  it('treats negative axes like their positive counterparts', async () => {
    const [g] = onBoth(randomData(60, 4), [3, 4, 5], gpu);
    await expectTensorsClose(w.sum(g, [-1, -3]), w.sum(g, [0, 2]), 0, 0);
    await expectTensorsClose(w.variance(g, -2), w.variance(g, 1), 0, 0);
  });

  it('copies the input for an empty list of axes', async () => {
    for (const backend of [gpu, cpuBackend()]) {
      const data = randomData(12, 8);
      const t = w.fromArray(data, [3, 4], { backend });
      const s = w.sum(t, []);
      expect([...s.shape]).toEqual([3, 4]);
      expect(Array.from(await s.toArray())).toEqual(Array.from(data));
      expect(Array.from(await w.max(t, [], true).toArray())).toEqual(Array.from(data));
      expect(Array.from(await w.variance(t, [], { correction: 0 }).toArray())).toEqual(new Array(12).fill(0));
    }
  });

  it('reduces a 0-d tensor to itself', async () => {
    for (const backend of [gpu, cpuBackend()]) {
      const t = w.fromArray([2.5], [], { backend });
      expect(await w.sum(t).item()).toBe(2.5);
      expect(await w.max(t, 0).item()).toBe(2.5);
    }
  });

  it('propagates NaN through max and min, and keeps infinities', async () => {
    const data = Float32Array.from([1, NaN, 3, -Infinity, 2, 5, Infinity, -1, 0]);
    for (const backend of [gpu, cpuBackend()]) {
      const t = w.fromArray(data, [3, 3], { backend });
      const mx = await w.max(t, 1).toArray();
      const mn = await w.min(t, 1).toArray();
      expect(Number.isNaN(mx[0]) && Number.isNaN(mn[0]), backend.kind).toBe(true);
      expect([mx[1], mx[2]]).toEqual([5, Infinity]);
      expect([mn[1], mn[2]]).toEqual([-Infinity, -1]);
      expect(Array.from(await w.max(t, 0).toArray()).map(Number.isNaN)).toEqual([false, true, false]);
    }
    // A NaN in a split reduction, too.
    const long = new Float32Array(50_000).fill(1);
    long[31_234] = NaN;
    expect(Number.isNaN(await w.max(w.fromArray(long)).item())).toBe(true);
    expect(Number.isNaN(await w.sum(w.fromArray(long)).item())).toBe(true);
  });

  it('follows torch for empty reductions and small counts', async () => {
    for (const backend of [gpu, cpuBackend()]) {
      const empty = w.zeros([0, 3], { backend });
      expect(Array.from(await w.sum(empty, 0).toArray())).toEqual([0, 0, 0]);
      expect((await w.mean(empty, 0).toArray()).every(Number.isNaN)).toBe(true);
      expect((await w.variance(empty, 0).toArray()).every(Number.isNaN)).toBe(true);
      expect([...w.sum(empty, 1).shape]).toEqual([0]);
      const one = w.fromArray([4], [1], { backend });
      expect(Number.isNaN(await w.variance(one).item())).toBe(true);
      expect(await w.variance(one, undefined, { correction: 0 }).item()).toBe(0);
      // n − correction = 0 with a spread: M2 / 0 = inf.
      expect(await w.variance(w.fromArray([1, 2], [2], { backend }), undefined, { correction: 2 }).item()).toBe(Infinity);
    }
  });

  it('keeps the sum attributes the broadcasting backward uses', async () => {
    const [g, c] = onBoth(randomData(35, 2), [7, 5], gpu);
    const attrs = { axes: [0], keepDims: false };
    await expectTensorsClose(w.runOp('sum', [g], attrs), w.sum(c, 0), 1e-6, 1e-6);
    const a = w.fromArray(randomData(12, 3), [3, 4], { requiresGrad: true });
    const b = w.fromArray(randomData(4, 4), [4], { requiresGrad: true });
    w.sum(w.add(a, b)).backward();
    expect(Array.from(await b.grad!.toArray())).toEqual([3, 3, 3, 3]);
  });
});

describe('reduction errors', () => {
  it('rejects axes out of range and repeated axes, naming the op', () => {
    const t = w.zeros([2, 3]);
    expect(() => w.sum(t, 2)).toThrow(/sum: axis 2 is out of range for a tensor of rank 2/);
    expect(() => w.mean(t, [-3])).toThrow(/mean: axis -3 is out of range for a tensor of rank 2/);
    expect(() => w.max(t, [0, -2])).toThrow(/max: axis -2 is repeated/);
    expect(() => w.variance(t, 1.5)).toThrow(/variance: axis 1.5 is out of range/);
    expect(() => w.runOp('sum', [t], { axes: [5], keepDims: false })).toThrow(/sum: axis 5 is out of range for a tensor of rank 2/);
    expect(() => w.runOp('sum', [t], { axes: [1, 0], keepDims: false })).toThrow(/sum: axes must be given to the op normalized .* got \[1, 0\]/);
  });

  it('rejects the max or min of no elements', () => {
    const empty = w.zeros([0, 3]);
    expect(() => w.max(empty, 0)).toThrow(/max: cannot reduce over no elements \(input shape \[0, 3\], axes \[0\]\)/);
    expect(() => w.min(empty)).toThrow(/min: cannot reduce over no elements/);
  });

  it('rejects a bad correction, keepDims that is not a boolean, and ranks past 8', () => {
    const t = w.zeros([2, 3]);
    expect(() => w.variance(t, 0, { correction: NaN })).toThrow(/variance: correction must be a finite number, got NaN/);
    // @ts-expect-error -- a JavaScript caller passing a number
    expect(() => w.sum(t, 0, 1)).toThrow(/sum: keepDims must be a boolean, got 1/);
    expect(() => w.sum(w.zeros([1, 1, 1, 1, 1, 1, 1, 1, 2]))).toThrow(/sum: tensors of rank at most 8 are supported/);
  });

  it('rejects a disposed input, naming the op', () => {
    const t = w.zeros([3]);
    t.dispose();
    expect(() => w.sum(t)).toThrow(/sum: tensor #\d+ of shape \[3\] was disposed/);
  });
});

// Distinct values spaced well beyond the finite-difference step, so max/min never switch.
function spaced(n: number, seed: number): Float32Array {
  const rng = new Random(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return Float32Array.from(order, (k) => (k - n / 2) * 0.1);
}

describe('reduction gradients', () => {
  const grads: [string, (x: Tensor) => Tensor][] = [
    ['sum', (x) => w.sum(x, [0, 2])],
    ['mean', (x) => w.mean(x, [0, 2], true)],
    ['max', (x) => w.max(x, [0, 2])],
    ['min', (x) => w.min(x, 1, true)],
    ['variance', (x) => w.variance(x, [0, 2])],
    ['variance correction 0', (x) => w.variance(x, -1, { correction: 0 })],
    ['std', (x) => w.std(x, [1, 2])],
    ['sum of all', (x) => w.sum(x)],
    ['max of all', (x) => w.max(x)],
  ];

  for (const [name, fn] of grads) {
    it(`${name}: finite differences on the CPU`, async () => {
      await gradcheck(fn, [{ shape: [3, 4, 2], data: spaced(24, name.length) }]);
    });
  }

  const shapes: [number[], Axes][] = [
    [[7, 33, 5], [0, 2]],
    [[257], undefined],
    [[3, 1, 4, 5], [1, 3]],
    [[3, 20_000], 1],
  ];
  const ops: [string, (x: Tensor, axes: Axes) => Tensor][] = [
    ['sum', (x, a) => w.sum(x, a)],
    ['mean', (x, a) => w.mean(x, a, true)],
    ['max', (x, a) => w.max(x, a)],
    ['min', (x, a) => w.min(x, a, true)],
    ['variance', (x, a) => w.variance(x, a)],
    ['std', (x, a) => w.std(x, a, { correction: 0 })],
  ];
  for (const [shape, axes] of shapes) {
    for (const [name, fn] of ops) {
      it(`${name} of ${JSON.stringify(shape)} over ${JSON.stringify(axes)}: GPU backward matches the CPU`, async () => {
        await compareBackward((x) => fn(x, axes), [{ shape, data: spaced(size(shape), shape.length) }], gpu, { atol: 1e-4, rtol: 1e-3 });
      });
    }
  }

  it('shares the gradient evenly between tied maxima and minima', async () => {
    for (const backend of [gpu, cpuBackend()]) {
      const x = w.fromArray([1, 3, 3, 2, 0, 0, 0, 5], [2, 4], { backend, requiresGrad: true });
      w.sum(w.add(w.max(x, 1), w.min(x, 1))).backward();
      // Row 0: max 3 twice, min 1 once; row 1: max 5 once, min 0 three times.
      expectClose(await x.grad!.toArray(), [1, 0.5, 0.5, 0, 1 / 3, 1 / 3, 1 / 3, 1], 1e-6, 1e-6, backend.kind);
    }
  });

  it('spreads the gradient of a mean in one dispatch (a scaled broadcast), itself differentiable', async () => {
    const x = w.fromArray(spaced(7 * 33 * 5, 3), [7, 33, 5], { backend: gpu, requiresGrad: true });
    const m = w.mean(x, [0, 2], true);
    const before = gpu.counters.dispatches;
    m.backward(w.fromArray(spaced(33, 4), m.shape, { backend: gpu }));
    // The mean's backward alone: one scaled broadcast.
    expect(gpu.counters.dispatches - before).toBe(1);
    const scaled = (t: Tensor) => w.runOp('broadcastTo', [t], { shape: [3, 4, 2], scale: 0.25 });
    await gradcheck(scaled, [{ shape: [3, 1, 2], data: spaced(6, 5) }]);
    await compareBackward(scaled, [{ shape: [3, 1, 2], data: spaced(6, 5) }], gpu);
  });

  it('accumulates the gradient of an input reduced twice', async () => {
    const x = w.fromArray([1, 2, 3, 4], [2, 2], { requiresGrad: true });
    w.add(w.sum(w.mean(x, 0)), w.sum(x)).backward();
    expect(Array.from(await x.grad!.toArray())).toEqual([1.5, 1.5, 1.5, 1.5]);
  });

  it('records a split reduction on the tape as the op itself', () => {
    const x = w.fromArray(new Float32Array(20_000), [20_000], { requiresGrad: true });
    const s = w.variance(x);
    expect(s.gradFn?.op).toBe('variance');
    expect(s.gradFn?.inputs[0]).toBe(x);
  });
});
