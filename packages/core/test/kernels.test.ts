import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import { entryPoints, kernelNames, packUniforms, reflectKernel } from '../src/backend/webgpu/reflect.ts';
import { dispatch1d } from '../src/backend/webgpu/program.ts';
import { gpuBackend } from './helpers.ts';

let gpu: w.WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
});

describe('WGSL kernels', () => {
  it('every kernel file compiles on the device without errors or warnings', async () => {
    expect(kernelNames().length).toBeGreaterThan(0);
    for (const kernel of kernelNames()) {
      // A module that enables subgroups compiles only on a device that has the feature.
      if (kernel.endsWith('_subgroups') && !gpu.hasSubgroups) continue;
      const module = gpu.device.createShaderModule({ code: reflectKernel(kernel, entryPoints(kernel)[0]).source });
      const info = await module.getCompilationInfo();
      const problems = info.messages.filter((m) => m.type !== 'info').map((m) => `${kernel}.wgsl:${m.lineNum}: ${m.message}`);
      expect(problems).toEqual([]);
    }
  });

  it('every entry point uses group 0 and at most one uniform struct (reflection succeeds)', () => {
    for (const kernel of kernelNames()) {
      for (const entry of entryPoints(kernel)) {
        const r = reflectKernel(kernel, entry);
        expect(r.storage.length, `${kernel}.${entry} storage bindings`).toBeGreaterThan(0);
      }
    }
  });

  it('uniform fields are packed at the offsets the WGSL declares', () => {
    const r = reflectKernel('binary');
    const bytes = packUniforms(r, { n: 5, rank: 2, out_shape: [5, 1], a_strides: [1, 0], b_strides: [0, 1] })!;
    const words = new Uint32Array(bytes);
    // struct { n: u32, rank: u32, out_shape: array<vec4<u32>, 2> (offset 16), a_strides (48), b_strides (80) }
    expect(words[0]).toBe(5);
    expect(words[1]).toBe(2);
    expect([words[4], words[5]]).toEqual([5, 1]);
    expect([words[12], words[13]]).toEqual([1, 0]);
    expect([words[20], words[21]]).toEqual([0, 1]);
    const unary = new DataView(packUniforms(reflectKernel('unary'), { n: 3, alpha: 1.5, beta: -2 })!);
    expect(unary.getFloat32(4, true)).toBe(1.5);
    expect(unary.getFloat32(8, true)).toBe(-2);
  });

  it('a TypeScript uniform that disagrees with the WGSL struct is an error', () => {
    const r = reflectKernel('unary');
    expect(() => packUniforms(r, { n: 3, alpha: 1 })).toThrow(/uniform field 'beta' declared in WGSL was not given/);
    expect(() => packUniforms(r, { n: 3, alpha: 1, beta: 0, gamma: 2 })).toThrow(/uniform 'gamma' is not a field of the WGSL struct/);
    expect(() => packUniforms(reflectKernel('binary'), { n: 1, rank: 1, out_shape: new Array(9).fill(1), a_strides: [], b_strides: [] })).toThrow(
      /uniform 'out_shape' holds 8 values, got 9/,
    );
  });

  it('a TypeScript binding that disagrees with the WGSL declaration is an error', () => {
    const x = gpu.alloc(4);
    const out = gpu.alloc(4);
    const base = { kernel: 'unary', overrides: { OP: 0 }, uniforms: { n: 4, alpha: 0, beta: 0 }, dispatch: dispatch1d(4, 256) };
    expect(() => gpu.run({ ...base, bindings: { input: x, out } })).toThrow(/binding 'input' is not a storage variable of entry point 'main' \(WGSL declares: x, out\)/);
    expect(() => gpu.run({ ...base, bindings: { x } })).toThrow(/storage binding 'out' declared in WGSL was not given/);
    expect(() => gpu.run({ ...base, overrides: { OPERATION: 1 }, bindings: { x, out } })).toThrow(/override 'OPERATION' is not declared/);
    gpu.free(x);
    gpu.free(out);
  });

  it('pipelines are keyed by kernel and overrides, not by shape; bind groups and uniforms are reused', async () => {
    w.setBackend(gpu);
    const a = w.rand([7, 3]);
    const b = w.rand([3]);
    w.tidy(() => {
      w.add(a, b);
    });
    const before = { ...gpu.counters };
    w.tidy(() => {
      w.add(w.rand([5, 2]), w.rand([2]));
    });
    expect(gpu.counters.pipelines).toBe(before.pipelines);
    const again = { ...gpu.counters };
    w.tidy(() => {
      w.add(a, b);
    });
    expect(gpu.counters.pipelines).toBe(again.pipelines);
    expect(gpu.counters.bindGroups).toBe(again.bindGroups);
    a.dispose();
    b.dispose();
  });
});

describe('memory', () => {
  it('tidy disposes intermediates and keeps what it returns', async () => {
    w.setBackend(gpu);
    const start = w.memory().liveBuffers;
    const x = w.rand([33]);
    const y = w.tidy(() => w.exp(w.mul(w.add(x, 1), 2)));
    expect(w.memory().liveBuffers).toBe(start + 2);
    expect(y.isDisposed).toBe(false);
    const kept = w.tidy(() => ({ a: w.neg(x), list: [w.abs(x)], scratch: w.keep(w.sqrt(w.abs(x))) }));
    expect(w.memory().liveBuffers).toBe(start + 5);
    for (const t of [x, y, kept.a, kept.list[0], kept.scratch]) t.dispose();
    expect(w.memory().liveBuffers).toBe(start);
  });

  it('tidy disposes everything when the function throws', () => {
    w.setBackend(gpu);
    const start = w.memory().liveBuffers;
    expect(() =>
      w.tidy(() => {
        w.ones([5]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(w.memory().liveBuffers).toBe(start);
  });

  it('views share storage, which is freed when the last view is disposed', async () => {
    w.setBackend(gpu);
    const start = w.memory().liveBuffers;
    const x = w.fromArray([1, 2, 3, 4], [2, 2]);
    const v = x.view([4]);
    x.dispose();
    expect(w.memory().liveBuffers).toBe(start + 1);
    expect(Array.from(await v.toArray())).toEqual([1, 2, 3, 4]);
    v.dispose();
    expect(w.memory().liveBuffers).toBe(start);
  });

  it('a steady loop of training-like steps creates no new GPU buffers after warm-up', async () => {
    w.setBackend(gpu);
    const p = w.rand([257], { requiresGrad: true });
    const step = () =>
      w.tidy(() => {
        const loss = w.mul(w.tanh(w.mul(p, 1.5)), w.sigmoid(p));
        loss.backward(w.ones([257]));
        p.grad!.dispose();
        p.grad = null;
      });
    for (let i = 0; i < 5; i++) step();
    await gpu.sync();
    const warm = w.memory();
    for (let i = 0; i < 100; i++) step();
    await gpu.sync();
    const after = w.memory();
    expect(after.createdBuffers).toBe(warm.createdBuffers);
    expect(after.liveBuffers).toBe(warm.liveBuffers);
    expect(after.liveBytes).toBe(warm.liveBytes);
    p.dispose();
  });
});
