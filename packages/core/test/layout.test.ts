import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { Tensor, WebGpuBackend } from '../src/index.ts';
import { cpuBackend, expectClose, expectTensorsClose, gpuBackend, onBoth, randomData } from './helpers.ts';
import { compareBackward, gradcheck, type GradInput } from './gradcheck.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);
const input = (shape: number[], seed: number, requiresGrad = true): GradInput => ({ shape, data: randomData(size(shape), seed), requiresGrad });
/** A CPU tensor holding 0, 1, 2, ... so that each value names its row-major position. */
const iota = (shape: number[]) => w.fromArray(Float32Array.from({ length: size(shape) }, (_, i) => i), shape, { backend: cpuBackend() });
const values = async (t: Tensor) => Array.from(await t.toArray());

/** Runs `op` on the same random input on both backends and compares. */
async function againstReference(shapes: number[][], op: (...xs: Tensor[]) => Tensor, seed = 1): Promise<void> {
  const pairs = shapes.map((s, i) => onBoth(randomData(size(s), seed + i), s, gpu));
  const g = op(...pairs.map(([t]) => t));
  const c = op(...pairs.map(([, t]) => t));
  expect(g.backend).toBe(gpu);
  await expectTensorsClose(g, c, 0, 0, 'GPU vs CPU');
}

describe('views: reshape, flatten, squeeze, unsqueeze', () => {
  it('reshape keeps the values, infers -1 and shares storage', async () => {
    const x = w.fromArray(randomData(42, 3), [6, 7]);
    const y = w.reshape(x, [3, -1, 2]);
    expect(y.shape).toEqual([3, 7, 2]);
    expect(y.storageFor('test')).toBe(x.storageFor('test'));
    expect(await values(y)).toEqual(await values(x));
    // The storage outlives the tensor it came from.
    x.dispose();
    expect(await y.toArray()).toHaveLength(42);
    expect(w.reshape(w.zeros([0, 3]), [-1]).shape).toEqual([0]);
    expect(w.reshape(w.ones([1]), []).shape).toEqual([]);
  });

  it('flatten, squeeze and unsqueeze compute PyTorch shapes', () => {
    const x = w.zeros([2, 1, 3, 1, 5]);
    expect(w.flatten(x).shape).toEqual([30]);
    expect(w.flatten(x, 1).shape).toEqual([2, 15]);
    expect(w.flatten(x, 1, 3).shape).toEqual([2, 3, 5]);
    expect(w.flatten(x, -2, -1).shape).toEqual([2, 1, 3, 5]);
    expect(w.flatten(w.zeros([])).shape).toEqual([1]);
    expect(w.squeeze(x).shape).toEqual([2, 3, 5]);
    expect(w.squeeze(x, 1).shape).toEqual([2, 3, 1, 5]);
    expect(w.squeeze(x, [-2, 0]).shape).toEqual([2, 1, 3, 5]); // size 2 is kept, as in PyTorch
    expect(w.unsqueeze(x, 0).shape).toEqual([1, 2, 1, 3, 1, 5]);
    expect(w.unsqueeze(x, 5).shape).toEqual([2, 1, 3, 1, 5, 1]);
    expect(w.unsqueeze(x, -1).shape).toEqual([2, 1, 3, 1, 5, 1]);
    expect(w.unsqueeze(x, -6).shape).toEqual([1, 2, 1, 3, 1, 5]);
    expect(w.unsqueeze(w.zeros([]), 0).shape).toEqual([1]);
  });

  it('are recorded for autograd: the gradient is reshaped back (CPU finite differences)', async () => {
    await gradcheck((x) => w.mul(w.reshape(x, [-1, 3]), w.reshape(x, [5, 3])), [input([3, 5], 4)]);
    await gradcheck((x) => w.exp(w.unsqueeze(w.squeeze(w.flatten(x, 1)), 1)), [input([3, 1, 2, 2], 5)]);
  });

  it('GPU backward through views matches the CPU', async () => {
    await compareBackward((x) => w.mul(w.flatten(x), w.flatten(w.unsqueeze(x, 2))), [input([7, 3], 6)], gpu);
  });

  it('do not record under noGrad and do not make leaves of non-differentiable inputs require grad', () => {
    const x = w.ones([2, 3], { requiresGrad: true });
    expect(w.noGrad(() => w.reshape(x, [6])).requiresGrad).toBe(false);
    expect(w.reshape(w.ones([2, 3]), [6]).requiresGrad).toBe(false);
    const y = w.reshape(x, [3, 2]);
    expect(y.requiresGrad).toBe(true);
    expect(y.gradFn?.op).toBe('reshape');
  });

  it('reject bad shapes and dimensions with messages that name the op', () => {
    const x = w.zeros([2, 7]);
    expect(() => w.reshape(x, [3, 5])).toThrow('reshape: shape [3, 5] is invalid for input of size 14');
    expect(() => w.reshape(x, [-1, 5])).toThrow('reshape: shape [-1, 5] is invalid for input of size 14');
    expect(() => w.reshape(x, [-1, -1])).toThrow(/reshape: only one dimension can be inferred \(-1\), got shape \[-1, -1\]/);
    expect(() => w.reshape(x, [2, -3])).toThrow(/reshape: invalid shape \[2, -3\]/);
    expect(() => w.reshape(w.zeros([0, 2]), [0, -1])).toThrow(/reshape: .*the size of the -1 dimension is ambiguous/);
    expect(() => w.flatten(x, 1, 0)).toThrow(/flatten: startDim 1 comes after endDim 0 for a tensor of shape \[2, 7\]/);
    expect(() => w.flatten(x, 2)).toThrow(/flatten: axis 2 is out of range for a tensor of rank 2/);
    expect(() => w.squeeze(x, 3)).toThrow(/squeeze: axis 3 is out of range for a tensor of rank 2/);
    expect(() => w.unsqueeze(x, 3)).toThrow(/unsqueeze: dim 3 is out of range for a tensor of shape \[2, 7\] \(expected an integer in \[-3, 2\]\)/);
    const gone = w.zeros([4]);
    gone.dispose();
    expect(() => w.reshape(gone, [2, 2])).toThrow(/reshape: tensor #\d+ of shape \[4\] was disposed/);
  });
});

describe('permute and transpose', () => {
  it('move values as the CPU reference says on known data', async () => {
    // x[i, j, k] = 12i + 4j + k; permute(2, 0, 1)[k, i, j] = x[i, j, k].
    const y = w.permute(iota([2, 3, 4]), [2, 0, 1]);
    expect(y.shape).toEqual([4, 2, 3]);
    const got = await values(y);
    for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expect(got[k * 6 + i * 3 + j]).toBe(12 * i + 4 * j + k);
    expect(await values(w.transpose(iota([2, 3]), 0, 1))).toEqual([0, 3, 1, 4, 2, 5]);
    expect(await values(w.transpose(iota([2, 3]), -1, -2))).toEqual([0, 3, 1, 4, 2, 5]);
  });

  const cases: [number[], number[]][] = [
    [[7], [0]],
    [[1, 257], [1, 0]],
    [[33, 7], [1, 0]],
    [[3, 5, 7], [2, 0, 1]],
    [[2, 3, 5, 7], [3, 1, 0, 2]],
    [[2, 1, 3, 1, 2, 3, 1, 2], [7, 6, 5, 4, 3, 2, 1, 0]],
    [[257, 273], [1, 0]],
  ];
  for (const [shape, dims] of cases) {
    it(`WebGPU matches the CPU reference: ${JSON.stringify(shape)} by ${JSON.stringify(dims)}`, async () => {
      await againstReference([shape], (x) => w.permute(x, dims));
    });
  }

  it('transpose of the last two dims on the GPU matches the CPU', async () => {
    await againstReference([[3, 33, 17]], (x) => w.transpose(x, -1, 1));
  });

  it('backward: finite differences on the CPU, and GPU vs CPU', async () => {
    await gradcheck((x) => w.permute(x, [1, 2, 0]), [input([2, 3, 4], 8)]);
    await gradcheck((x) => w.mul(w.transpose(x, 0, 1), x), [input([3, 3], 9)]);
    await compareBackward((x) => w.permute(x, [2, 0, 3, 1]), [input([3, 5, 2, 7], 10)], gpu);
  });

  it('reject a bad permutation', () => {
    const x = w.zeros([2, 3, 4]);
    expect(() => w.permute(x, [0, 1])).toThrow(/permute: dims \[0, 1\] must name each of the 3 dimensions of the input, shape \[2, 3, 4\], once/);
    expect(() => w.permute(x, [0, 0, 1])).toThrow(/permute: axis 0 is repeated in \[0, 0, 1\]/);
    expect(() => w.permute(x, [0, 1, 3])).toThrow(/permute: axis 3 is out of range for a tensor of rank 3/);
    expect(() => w.transpose(x, 0, 3)).toThrow(/transpose: axis 3 is out of range for a tensor of rank 3/);
  });
});

describe('slice and narrow', () => {
  it('cut the block the CPU reference says on known data', async () => {
    // x[i, j] = 5i + j
    const x = iota([4, 5]);
    expect(await values(w.slice(x, [1, 2], [2, 3]))).toEqual([7, 8, 9, 12, 13, 14]);
    expect(await values(w.slice(x, [2, 3], [-1, -1]))).toEqual([13, 14, 18, 19]);
    expect(await values(w.narrow(x, 1, -2, 1))).toEqual([3, 8, 13, 18]);
    expect(w.slice(x, [4, 0], [0, 5]).shape).toEqual([0, 5]);
  });

  const cases: [number[], number[], number[]][] = [
    [[7], [3], [1]],
    [[257], [1], [-1]],
    [[33, 7], [5, 2], [27, 5]],
    [[5, 7, 9], [1, 0, 4], [3, -1, 5]],
    [[2, 3, 5, 7, 3], [1, 1, 0, 6, 2], [1, 2, 5, 1, 1]],
  ];
  for (const [shape, begin, sizes] of cases) {
    it(`WebGPU matches the CPU reference: ${JSON.stringify(shape)} from ${JSON.stringify(begin)} size ${JSON.stringify(sizes)}`, async () => {
      await againstReference([shape], (x) => w.slice(x, begin, sizes));
    });
  }

  it('a slice that is one contiguous run is a copy command, not a dispatch; the others gather', async () => {
    const contiguous: [number[], number[], number[]][] = [
      [[7, 33], [2, 0], [3, 33]],
      [[5, 3, 7], [1, 2, 0], [1, 1, 7]],
      [[5, 3, 7], [4, 1, 3], [1, 1, 3]],
      [[9], [4], [5]],
    ];
    const strided: [number[], number[], number[]][] = [
      [[7, 33], [0, 1], [3, 5]],
      [[5, 3, 7], [1, 0, 0], [2, 2, 7]],
    ];
    for (const [cases, dispatches] of [[contiguous, 0], [strided, 1]] as const) {
      for (const [shape, begin, sizes] of cases) {
        const [g, c] = onBoth(randomData(size(shape), 5), shape, gpu);
        const before = gpu.counters.dispatches;
        const got = w.slice(g, begin, sizes);
        expect(gpu.counters.dispatches - before, `dispatches of slice ${JSON.stringify([shape, begin, sizes])}`).toBe(dispatches);
        await expectTensorsClose(got, w.slice(c, begin, sizes), 0, 0, `slice ${JSON.stringify([shape, begin, sizes])}`);
      }
    }
  });

  it('narrow on the GPU matches the CPU', async () => {
    await againstReference([[9, 33]], (x) => w.narrow(x, -1, 7, 19));
  });

  it('backward writes the gradient into zeros at the slice: finite differences, and GPU vs CPU', async () => {
    await gradcheck((x) => w.slice(x, [1, 0, 2], [2, -1, 3]), [input([4, 3, 5], 11)]);
    await gradcheck((x) => w.add(w.narrow(x, 0, 0, 3), w.narrow(x, 0, 2, 3)), [input([5, 2], 12)]);
    await compareBackward((x) => w.slice(x, [3, 1, 0], [17, 5, -1]), [input([33, 7, 3], 13)], gpu);
  });

  it('the backward of a slice is itself differentiable', async () => {
    for (const backend of [cpuBackend(), gpu]) {
      const g = w.fromArray([1, 2], [2], { backend, requiresGrad: true });
      // sliceBackward places g at [1, 3) of a length-4 zero vector; its gradient slices back.
      const placed = w.runOp('sliceBackward', [g], { begin: [1], inputShape: [4] });
      expect(await values(placed)).toEqual([0, 1, 2, 0]);
      placed.backward(w.fromArray([10, 20, 30, 40], [4], { backend }));
      expect(await values(g.grad!)).toEqual([20, 30]);
    }
  });

  it('reject out-of-bounds slices', () => {
    const x = w.zeros([4, 5]);
    expect(() => w.slice(x, [0, 3], [2, 3])).toThrow(/slice: begin 3 \+ size 3 exceeds dimension 1 of size 5 \(input shape \[4, 5\], begin \[0, 3\], size \[2, 3\]\)/);
    expect(() => w.slice(x, [5, 0], [-1, -1])).toThrow(/slice: begin 5 is out of bounds for dimension 0 of size 4/);
    expect(() => w.slice(x, [-1, 0], [1, 1])).toThrow(/slice: begin -1 is out of bounds for dimension 0 of size 4/);
    expect(() => w.slice(x, [0, 0], [1, -2])).toThrow(/slice: size -2 for dimension 1 must be a non-negative integer or -1/);
    expect(() => w.slice(x, [0], [1])).toThrow(/slice: begin and size need one entry per dimension of the input \(input shape \[4, 5\]/);
    expect(() => w.narrow(x, 1, 3, 3)).toThrow(/narrow: start 3 \+ length 3 exceeds dimension 1 of size 5/);
    expect(() => w.narrow(x, 0, -5, 1)).toThrow(/narrow: start -5 is out of range for dimension 0 of size 4/);
    expect(() => w.narrow(x, 2, 0, 1)).toThrow(/narrow: axis 2 is out of range for a tensor of rank 2/);
  });
});

describe('concat', () => {
  it('joins known data as torch.cat does', async () => {
    const a = iota([2, 2]);
    const b = w.affine(iota([2, 3]), 1, 10);
    expect(await values(w.concat([a, b], 1))).toEqual([0, 1, 10, 11, 12, 2, 3, 13, 14, 15]);
    expect(await values(w.concat([a, w.affine(a, 1, 4)]))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(w.concat([a, w.zeros([0, 2], { backend: cpuBackend() })], 0).shape).toEqual([2, 2]);
  });

  const cases: [number[][], number][] = [
    [[[1], [7], [33]], 0],
    [[[3, 1], [3, 7], [3, 257]], -1],
    [[[2, 5, 3], [7, 5, 3]], 0],
    [[[2, 5, 3], [2, 1, 3], [2, 0, 3], [2, 4, 3]], 1],
    [[[4, 3, 1, 5], [4, 3, 2, 5]], 2],
  ];
  for (const [shapes, axis] of cases) {
    it(`WebGPU matches the CPU reference: ${JSON.stringify(shapes)} along ${axis}`, async () => {
      await againstReference(shapes, (...xs) => w.concat(xs, axis));
    });
  }

  it('pieces that land as contiguous runs are copied with copy commands', async () => {
    const [a, ac] = onBoth(randomData(15, 1), [3, 5], gpu);
    const [b, bc] = onBoth(randomData(10, 2), [2, 5], gpu);
    const before = gpu.counters.dispatches;
    const rows = w.concat([a, b], 0);
    expect(gpu.counters.dispatches - before).toBe(0);
    await expectTensorsClose(rows, w.concat([ac, bc], 0), 0, 0, 'concat along 0');
    const [c, cc] = onBoth(randomData(6, 3), [3, 2], gpu);
    const cols = w.concat([a, c], 1);
    await expectTensorsClose(cols, w.concat([ac, cc], 1), 0, 0, 'concat along 1');
  });

  it('backward slices the gradient: finite differences, and GPU vs CPU', async () => {
    await gradcheck((a, b) => w.concat([a, b, a], 1), [input([2, 3], 14), input([2, 1], 15)]);
    await gradcheck((a, b) => w.concat([a, b], 0), [input([1, 4], 16), input([3, 4], 17, false)]);
    await compareBackward((a, b, c) => w.concat([a, b, c], -2), [input([3, 7, 5], 18), input([3, 1, 5], 19), input([3, 33, 5], 20)], gpu);
  });

  it('gives no gradient to an input that does not require one', async () => {
    const a = w.ones([2], { requiresGrad: true });
    const b = w.ones([3]);
    w.concat([a, b]).backward(w.fromArray([1, 2, 3, 4, 5]));
    expect(await values(a.grad!)).toEqual([1, 2]);
    expect(b.grad).toBeNull();
  });

  it('rejects mismatched inputs, naming the input and both shapes', () => {
    const a = w.zeros([2, 3]);
    expect(() => w.concat([a, w.zeros([2, 4]), w.zeros([3, 3])], 1)).toThrow(
      'concat: input 2 has shape [3, 3] but input 0 has shape [2, 3]; all sizes must match except along axis 1',
    );
    expect(() => w.concat([a, w.zeros([2, 3, 1])])).toThrow(/concat: input 1 has shape \[2, 3, 1\] but input 0 has shape \[2, 3\]/);
    expect(() => w.concat([a], 2)).toThrow(/concat: axis 2 is out of range for a tensor of rank 2/);
    expect(() => w.concat([])).toThrow(/concat: expected at least one tensor/);
    expect(() => w.concat([w.zeros([])])).toThrow(/concat: input 0 is zero-dimensional/);
    expect(() => w.concat([a, w.zeros([2, 3], { backend: cpuBackend() })])).toThrow(/concat: all tensors must be on one device/);
  });
});

describe('broadcastTo', () => {
  it('repeats known data as torch.expand does', async () => {
    expect(await values(w.broadcastTo(iota([3, 1]), [2, 3, 2]))).toEqual([0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2]);
    expect(await values(w.broadcastTo(iota([1, 2]), [-1, 2]))).toEqual([0, 1]);
    expect(w.broadcastTo(iota([]), [0, 3]).shape).toEqual([0, 3]);
  });

  const cases: [number[], number[]][] = [
    [[], [7]],
    [[1], [257]],
    [[33, 1], [33, 7]],
    [[5, 1, 3], [2, 5, 7, 3]],
    [[1, 7, 1], [3, 7, 33]],
  ];
  for (const [from, to] of cases) {
    it(`WebGPU matches the CPU reference: ${JSON.stringify(from)} to ${JSON.stringify(to)}`, async () => {
      await againstReference([from], (x) => w.broadcastTo(x, to));
    });
  }

  // The backward sums over the broadcast dimensions with the 'sum' op.
  it('backward sums back: finite differences, and GPU vs CPU', async () => {
    await gradcheck((x) => w.broadcastTo(x, [2, 3, 4]), [input([3, 1], 21)]);
    await gradcheck((x) => w.broadcastTo(x, [3, 4]), [input([3, 4], 22)]);
    await compareBackward((x) => w.broadcastTo(x, [3, 7, 33]), [input([1, 7, 1], 23)], gpu);
  });

  it('rejects incompatible shapes', () => {
    const x = w.zeros([3, 2]);
    expect(() => w.broadcastTo(x, [3, 4])).toThrow(
      'broadcastTo: cannot broadcast shape [3, 2] to [3, 4]: dimension 1 has size 2, and only size-1 dimensions can be expanded (to 4)',
    );
    expect(() => w.broadcastTo(x, [2])).toThrow(/broadcastTo: cannot broadcast shape \[3, 2\] to \[2\]: the target has fewer dimensions/);
    expect(() => w.broadcastTo(x, [-1, 3, 2])).toThrow(/-1 \(keep the size\) is not allowed for the new leading dimension 0/);
  });
});

describe('where', () => {
  it('selects a where the condition is nonzero (NaN included), with numbers for a or b', async () => {
    const cond = w.fromArray([1, 0, -2, NaN, 0]);
    const a = w.fromArray([1, 2, 3, 4, 5]);
    expect(await values(w.where(cond, a, 0))).toEqual([1, 0, 3, 4, 0]);
    expect(await values(w.where(cond, -1, a))).toEqual([-1, 2, -1, -1, 5]);
    const c = w.fromArray([1, 0, -2, NaN, 0], [5], { backend: cpuBackend() });
    expect(await values(w.where(c, 7, 8))).toEqual([7, 8, 7, 7, 8]);
  });

  const cases: number[][][] = [
    [[7], [7], [7]],
    [[257], [1], []],
    [[33, 1], [1, 7], [7]],
    [[1, 5, 1], [3, 1, 7], [3, 5, 7]],
    [[2, 1, 3, 1], [5, 1, 1], [1, 1, 1, 4]],
  ];
  for (const [sc, sa, sb] of cases) {
    it(`WebGPU matches the CPU reference: ${JSON.stringify(sc)}, ${JSON.stringify(sa)}, ${JSON.stringify(sb)}`, async () => {
      // A condition with zeros, positives and negatives.
      const cond = randomData(size(sc), 31).map((v) => (v > 0.3 ? 0 : v));
      const [gc, cc] = onBoth(cond, sc, gpu);
      const [ga, ca] = onBoth(randomData(size(sa), 32), sa, gpu);
      const [gb, cb] = onBoth(randomData(size(sb), 33), sb, gpu);
      await expectTensorsClose(w.where(gc, ga, gb), w.where(cc, ca, cb), 0, 0, 'where');
    });
  }

  const mask = (shape: number[], seed: number): GradInput => ({
    shape,
    data: randomData(size(shape), seed).map((v) => (v > 0 ? 1 : 0)),
    requiresGrad: false,
  });

  it('gradients flow to a and b through the mask, none to the condition', async () => {
    await gradcheck((c, a, b) => w.where(c, a, b), [mask([3, 4], 24), input([3, 4], 25), input([3, 4], 26)]);
    await compareBackward((c, a, b) => w.where(c, a, b), [mask([5, 33], 27), input([5, 33], 28), input([5, 33], 29)], gpu);
    const cond = w.fromArray([1, 0, 1], [3], { requiresGrad: true });
    const a = w.fromArray([1, 2, 3], [3], { requiresGrad: true });
    const b = w.fromArray([4, 5, 6], [3], { requiresGrad: true });
    w.where(cond, a, b).backward(w.fromArray([10, 20, 30]));
    expectClose(await a.grad!.toArray(), [10, 0, 30], 0, 0);
    expectClose(await b.grad!.toArray(), [0, 20, 0], 0, 0);
    expect(cond.grad).toBeNull();
  });

  it('broadcast gradients are summed back to the inputs', async () => {
    await gradcheck((c, a, b) => w.where(c, a, b), [mask([3, 1], 34), input([1, 4], 35), input([], 36)]);
    await compareBackward((c, a, b) => w.where(c, a, b), [mask([7, 1, 5], 37), input([3, 1], 38), input([7, 3, 5], 39)], gpu);
  });

  it('rejects shapes that do not broadcast, naming all three', () => {
    expect(() => w.where(w.zeros([2, 3]), w.zeros([4]), w.zeros([1]))).toThrow(
      'where: condition [2, 3], a [4] and b [1] cannot be broadcast together (dimension 1 of the result: sizes 3 vs 4)',
    );
    expect(() => w.where(w.zeros([2]), w.zeros([2]), w.zeros([2], { backend: cpuBackend() }))).toThrow(/where: all tensors must be on one device/);
  });
});
