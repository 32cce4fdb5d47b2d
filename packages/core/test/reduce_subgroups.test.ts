import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as w from '../src/index.ts';
import type { Tensor } from '../src/index.ts';
import { WebGpuBackend } from '../src/index.ts';
import { reduceSpec, type Reduction } from '../src/kernels/reduce.ts';
import { chunkCount, reductionGeometry, reductionProgramsInChunks } from '../src/kernels/reduction_plan.ts';
import { reflectKernel, entryPoints, shaderSource } from '../src/backend/webgpu/reflect.ts';
import type { Program } from '../src/backend/webgpu/program.ts';
import { Random } from '../src/util/random.ts';
import { cpuBackend, expectClose, gpuBackend, onBoth, randomData } from './helpers.ts';
import { reductions, size, type Axes } from './reduce_cases.ts';

// The subgroup twins of the reduction kernels (`reduce_subgroups`, made by the build from
// shaders/reduce.wgsl with lib/workgroup_merge_subgroups.wgsl) against the plain ones: the
// same reductions run both ways on the same device must agree to float32 rounding, and both
// must match the CPU reference.

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

afterEach(() => {
  vi.restoreAllMocks();
  if (gpu.hasSubgroups) gpu.useSubgroups = true;
});


/** Runs `f` on the GPU with subgroups on and then off; returns the values and the kernels each way ran. */
async function bothWays(f: () => Tensor): Promise<{ on: Float32Array; off: Float32Array; kernelsOn: Set<string>; kernelsOff: Set<string> }> {
  const run = vi.spyOn(gpu, 'run');
  const kernels = (): Set<string> => new Set(run.mock.calls.map(([p]: [Program]) => p.kernel).filter((k) => k.startsWith('reduce')));
  gpu.useSubgroups = true;
  const on = await f().toArray();
  const kernelsOn = kernels();
  run.mockClear();
  gpu.useSubgroups = false;
  const off = await f().toArray();
  const kernelsOff = kernels();
  gpu.useSubgroups = true;
  run.mockRestore();
  return { on, off, kernelsOn, kernelsOff };
}

/** Max and min must agree exactly both ways (no rounding); sums to float32 rounding. */
function tolerance(name: string): [number, number] {
  return name === 'max' || name === 'min' ? [0, 0] : [2e-5, 2e-5];
}

/** The text of each top-level `fn` (and struct) of a WGSL source, by name. */
function declarations(source: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /^(fn|struct) (\w+)[^{]*\{/gm;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    let depth = 0;
    let end = m.index;
    for (let i = source.indexOf('{', m.index); i < source.length; i++) {
      if (source[i] === '{') depth++;
      else if (source[i] === '}' && --depth === 0) {
        end = i + 1;
        break;
      }
    }
    out.set(m[2], source.slice(m.index, end));
  }
  return out;
}

/** Every kernel family over the reduction core, each embedded with a tree and with subgroups. */
const FAMILIES = ['reduce', 'norm_stats', 'norm_grad_sums'];

describe('the subgroup twins of the reduction kernels', () => {
  for (const family of FAMILIES) {
    it(`${family}_subgroups declares the same entry points, uniforms, bindings and overrides as ${family}`, () => {
      expect(entryPoints(`${family}_subgroups`)).toEqual(entryPoints(family));
      for (const entry of entryPoints(family)) {
        const plain = reflectKernel(family, entry);
        const sub = reflectKernel(`${family}_subgroups`, entry);
        expect(sub.storage, entry).toEqual(plain.storage);
        expect(sub.overrides, entry).toEqual(plain.overrides);
        expect(sub.uniform?.size, entry).toBe(plain.uniform?.size);
        expect([...(sub.uniform?.fields.values() ?? [])], entry).toEqual([...(plain.uniform?.fields.values() ?? [])]);
      }
    });

    it(`${family} and its twin differ only in how a workgroup merges its states`, () => {
      const plain = declarations(shaderSource(family));
      const sub = declarations(shaderSource(`${family}_subgroups`));
      const merging = new Set(['Invocation', 'workgroup_merge', 'subgroup_combine']);
      expect(plain.size).toBeGreaterThan(10);
      for (const [name, text] of plain) {
        if (!merging.has(name)) expect(sub.get(name), name).toBe(text);
      }
      for (const name of sub.keys()) expect(plain.has(name) || merging.has(name), name).toBe(true);
    });
  }
});

/**
 * The reduction `reduction` of x (GPU) over its last axis, split into `chunks` (whatever the
 * plan would choose), through the backend as an op would run it.
 */
function reduceInChunks(x: Tensor, reduction: Reduction, correction: number, chunks: number): Tensor {
  const g = reductionGeometry(x.shape, [x.rank - 1]);
  const out = w.zeros(x.shape.slice(0, -1), { backend: gpu });
  gpu.execute(
    {
      name: `${reduction} in ${chunks} chunks`,
      cpu: () => {
        throw new Error('GPU only');
      },
      gpu: ([input], output, _attrs, ctx) => reductionProgramsInChunks(reduceSpec(reduction, input, output, g, correction), chunks, ctx),
    },
    [{ shape: x.shape, storage: x.storageFor('test') }],
    { shape: out.shape, storage: out.storageFor('test') },
    {},
  );
  return out;
}

describe('reductions with and without subgroups on one device', () => {
  // Where the adapter offers no subgroups there is nothing to compare (see the last block).
  beforeEach((ctx) => {
    if (!gpu.acquired.adapter.features.has('subgroups')) ctx.skip();
  });

  it('the device has subgroups, on by default (acquireDevice asks for the feature)', () => {
    expect(gpu.hasSubgroups).toBe(true);
    expect(gpu.useSubgroups).toBe(true);
  });

  it('reductions run the kernel the backend asks for: reduce_subgroups when useSubgroups, reduce otherwise', async () => {
    // A split reduction (partials, then merge), a one-level one and a one-thread-per-output one.
    for (const shape of [[3, 20_000], [5, 300], [40, 7]]) {
      const x = w.rand(shape);
      const { kernelsOn, kernelsOff } = await bothWays(() => w.variance(x, 1));
      expect([...kernelsOn], JSON.stringify(shape)).toEqual(['reduce_subgroups']);
      expect([...kernelsOff], JSON.stringify(shape)).toEqual(['reduce']);
    }
  });

  // Short rows (one thread per output), one workgroup per output (contiguous and strided,
  // 33 and 257 past a power of two), and split rows (two levels, contiguous and strided).
  const cases: [number[], Axes, boolean][] = [
    [[1], undefined, false],
    [[7], undefined, false],
    [[33], undefined, false],
    [[257], undefined, false],
    [[7, 33, 5], [0, 2], false],
    [[3, 1, 4, 5], [1, 3], true],
    [[33, 65], 0, true],
    [[5, 300], -1, false],
    [[6, 7, 9, 11], [0, 2, 3], true],
    [[3, 20_000], 1, false],
    [[10_001, 3], 0, false],
    [[100_003], undefined, false],
  ];
  for (const [shape, axes, keepDims] of cases) {
    it(`every reduction of ${JSON.stringify(shape)} over ${JSON.stringify(axes)} agrees with and without subgroups, and with the CPU`, async () => {
      const [g, c] = onBoth(randomData(size(shape), size(shape) + 17, 2), shape, gpu);
      for (const [name, op] of reductions) {
        const { on, off } = await bothWays(() => op(g, axes, keepDims));
        const [atol, rtol] = tolerance(name);
        expectClose(on, off, atol, rtol, `${name}: subgroups vs plain`);
        const want = await op(c, axes, keepDims).toArray();
        expectClose(on, want, 2e-5, 1e-4, `${name}: subgroups vs CPU`);
        expectClose(off, want, 2e-5, 1e-4, `${name}: plain vs CPU`);
      }
    });
  }

  it('reductions over no elements agree (sum 0, mean and variance NaN)', async () => {
    const [g, c] = onBoth(new Float32Array(0), [3, 0], gpu);
    for (const [name, op] of reductions.filter(([n]) => n !== 'max' && n !== 'min')) {
      const { on, off } = await bothWays(() => op(g, 1, false));
      const want = await op(c, 1, false).toArray();
      expectClose(on, want, 0, 0, `${name}: subgroups`);
      expectClose(off, want, 0, 0, `${name}: plain`);
    }
  });

  it('merges of 1, 2, 3, 7 and 300 chunk states agree (workgroups smaller than a subgroup, and empty chunks, included)', async () => {
    const shape = [5, 2_049];
    const [g, c] = onBoth(randomData(size(shape), 11, 3), shape, gpu);
    for (const reduction of ['sum', 'mean', 'max', 'min', 'variance'] as const) {
      const attrs = reduction === 'variance' ? { axes: [1], keepDims: false, correction: 1 } : { axes: [1], keepDims: false };
      const want = await w.runOp(reduction, [c], attrs).toArray();
      for (const chunks of [1, 2, 3, 7, 300]) {
        const { on, off, kernelsOn } = await bothWays(() => reduceInChunks(g, reduction, 1, chunks));
        expect([...kernelsOn]).toEqual(['reduce_subgroups']);
        const what = `${reduction} in ${chunks} chunks`;
        expectClose(on, off, ...tolerance(reduction), `${what}: subgroups vs plain`);
        expectClose(on, want, 2e-5, 1e-4, `${what}: subgroups vs CPU`);
        expectClose(off, want, 2e-5, 1e-4, `${what}: plain vs CPU`);
      }
    }
  });

  it('normalization statistics and backward sums agree with and without subgroups (one thread, one workgroup and two levels per group)', async () => {
    for (const shape of [[4, 4, 5], [3, 4, 300], [2, 4, 5001]]) {
      const [g, c] = onBoth(randomData(size(shape), size(shape) + 3, 2).map((v) => v + 50), shape, gpu, cpuBackend(), true);
      const [dyG, dyC] = onBoth(randomData(size(shape), 9), shape, gpu);
      const [wg, wc] = onBoth(randomData(4, 19).map((v) => v + 1), [4], gpu, cpuBackend(), true);
      const grads = async (x: Tensor, dy: Tensor, weight: Tensor): Promise<Float32Array[]> => {
        x.grad = null;
        weight.grad = null;
        const y = w.groupNorm(x, 2, { weight });
        w.sum(w.mul(y, dy)).backward();
        return [await y.toArray(), await x.grad!.toArray(), await weight.grad!.toArray()];
      };
      const want = await grads(c, dyC, wc);
      for (const on of [true, false]) {
        gpu.useSubgroups = on;
        const got = await grads(g, dyG, wg);
        const what = `group norm of ${JSON.stringify(shape)}, subgroups ${on ? 'on' : 'off'}`;
        expectClose(got[0], want[0], 1e-4, 1e-4, `${what}: output`);
        expectClose(got[1], want[1], 1e-4, 1e-3, `${what}: x.grad`);
        expectClose(got[2], want[2], 1e-2, 1e-3, `${what}: weight.grad`);
      }
      gpu.useSubgroups = true;
    }
  });

  it('NaN propagates through every reduction both ways, wherever it sits, and infinities behave as on the CPU', async () => {
    // Rows of 7 (one thread each), 300 (one workgroup each) and 20 000 (split); in each, a
    // NaN first (the value variance shifts by), in the middle, last, or an infinity.
    for (const len of [7, 300, 20_000]) {
      const rows = 6;
      const data = randomData(rows * len, len, 1);
      data[0] = NaN;
      data[len + (len >> 1)] = NaN;
      data[3 * len - 1] = NaN;
      data[3 * len + 2] = Infinity;
      data[4 * len + 1] = -Infinity;
      // Row 5 stays finite.
      const [g, c] = onBoth(data, [rows, len], gpu);
      for (const [name, op] of reductions) {
        const { on, off } = await bothWays(() => op(g, 1, false));
        const want = await op(c, 1, false).toArray();
        const what = `${name} of rows of ${len}`;
        expect(Array.from(on.slice(0, 3), Number.isNaN), `${what}: NaN rows with subgroups`).toEqual([true, true, true]);
        expect(Array.from(off.slice(0, 3), Number.isNaN), `${what}: NaN rows plain`).toEqual([true, true, true]);
        expectClose(on, want, 2e-5, 1e-4, `${what}: subgroups vs CPU`);
        expectClose(off, want, 2e-5, 1e-4, `${what}: plain vs CPU`);
      }
    }
  });

  it('variance with mean 1e4 and std 1 is right to 1e-3 relative both ways (split, one level, one thread)', async () => {
    const n = 300_007;
    const data = new Float32Array(n);
    const r = new Random(21);
    for (let i = 0; i < n; i++) data[i] = 1e4 + r.normal();
    for (const [shape, axes] of [
      [[n], undefined],
      [[8, 3000], 1],
      [[2000, 3], 0],
      [[100, 7], 1],
    ] as [number[], Axes][]) {
      const [g, c] = onBoth(data.subarray(0, size(shape)), shape, gpu);
      const want = await w.variance(c, axes).toArray();
      // The data really has variance 1 (averaged over rows: 7 values alone scatter widely).
      expect(Math.abs(want.reduce((p, v) => p + v, 0) / want.length - 1)).toBeLessThan(0.2);
      const { on, off } = await bothWays(() => w.variance(g, axes));
      expectClose(on, want, 0, 1e-3, `variance of ${JSON.stringify(shape)} with subgroups`);
      expectClose(off, want, 0, 1e-3, `variance of ${JSON.stringify(shape)} plain`);
    }
    expect(chunkCount(reductionGeometry([n], [0]))).toBeGreaterThan(1);
  });
});

describe('a device without the subgroups feature', () => {
  // A second Dawn instance, kept for the life of the file (Dawn tears an instance down when
  // it is garbage-collected).
  let instance: GPU | null = null;
  let plainOnly: WebGpuBackend;

  beforeAll(async () => {
    await gpuBackend(); // loads Dawn and finds the adapter (SwiftShader here)
    const moduleName = 'webgpu';
    const dawn = (await import(/* @vite-ignore */ moduleName)) as { create(flags: string[]): GPU };
    instance = dawn.create([]);
    const adapter = await instance.requestAdapter();
    if (!adapter) throw new Error('no second adapter');
    const device = await adapter.requestDevice();
    plainOnly = new WebGpuBackend({ device, adapter, adapterName: 'without subgroups', software: true, runtime: 'node' });
  });

  it('reports no subgroups, refuses to turn them on, and reduces with the plain kernel', async () => {
    expect(instance).not.toBeNull();
    expect(plainOnly.hasSubgroups).toBe(false);
    expect(plainOnly.useSubgroups).toBe(false);
    expect(() => (plainOnly.useSubgroups = true)).toThrow(/useSubgroups: the device \(webgpu: without subgroups \[software\]\) lacks the 'subgroups' feature/);
    const run = vi.spyOn(plainOnly, 'run');
    const shape = [3, 20_000];
    const data = randomData(size(shape), 5, 1);
    const x = w.fromArray(data, shape, { backend: plainOnly });
    const c = w.fromArray(data, shape, { backend: cpuBackend() });
    for (const [name, op] of reductions) {
      expectClose(await op(x, 1, false).toArray(), await op(c, 1, false).toArray(), 2e-5, 1e-4, name);
    }
    expect(new Set(run.mock.calls.map(([p]) => p.kernel).filter((k) => k.startsWith('reduce')))).toEqual(new Set(['reduce']));
  });
});
