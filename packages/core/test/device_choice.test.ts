// How acquireDevice chooses where WebGPU comes from, and what it asks of an adapter, with fake
// runtimes and adapters: this runs in Node, where the real choice is always Dawn.
import { describe, expect, it } from 'vitest';
import { acquireIn } from '../src/device/acquire.ts';
import { adapterName, deviceRequest, isSoftwareAdapter } from '../src/device/open_device.ts';
import { chooseDeviceSource, runtimeFacts, runtimeLabel, type RuntimeFacts } from '../src/device/runtime.ts';

/** A navigator.gpu whose requestAdapter answers `adapter`. */
const fakeGpu = (adapter: GPUAdapter | null): GPU => ({ requestAdapter: async () => adapter }) as unknown as GPU;
const facts = (f: Partial<RuntimeFacts>): RuntimeFacts => ({ gpu: undefined, deno: undefined, node: undefined, document: false, ...f });

describe('choosing where the device comes from', () => {
  const gpu = fakeGpu(null);
  it.each([
    ['a browser page', facts({ gpu, document: true }), 'navigator', 'browser'],
    ['a web worker', facts({ gpu }), 'navigator', 'browser'],
    ['Deno, which also sets process.versions.node', facts({ gpu, deno: '2.9.6', node: '24.2.0' }), 'navigator', 'deno'],
    ['Deno without WebGPU turned on', facts({ deno: '2.9.6', node: '24.2.0' }), 'none', 'deno'],
    ['Node', facts({ node: '20.19.0' }), 'dawn', 'node'],
    ['Node with a navigator.gpu of its own', facts({ gpu, node: '20.19.0' }), 'navigator', 'node'],
    ['a DOM emulation in Node', facts({ node: '20.19.0', document: true }), 'none', 'browser'],
    ['a browser without WebGPU', facts({ document: true }), 'none', 'browser'],
  ])('%s', (_, f, from, runtime) => {
    expect(chooseDeviceSource(f)).toMatchObject({ from, runtime });
  });

  it('reads the facts from a global scope', () => {
    const gpu = fakeGpu(null);
    expect(runtimeFacts({ navigator: { gpu }, Deno: { version: { deno: '2.9.6' } }, process: { versions: { node: '24.2.0' } } })).toEqual({ gpu, deno: '2.9.6', node: '24.2.0', document: false });
    expect(runtimeFacts({ navigator: {}, document: {} })).toEqual({ gpu: undefined, deno: undefined, node: undefined, document: true });
    expect(runtimeFacts()).toMatchObject({ gpu: undefined, deno: undefined, node: process.versions.node, document: false });
    expect(runtimeLabel(runtimeFacts())).toBe(`Node ${process.versions.node}`);
  });

  it('says which runtime and what was tried when there is no navigator.gpu or no adapter', async () => {
    await expect(acquireIn(facts({ deno: '2.9.6', node: '24.2.0' }))).rejects.toThrow(
      'acquireDevice (Deno 2.9.6): navigator.gpu is undefined: run deno with --unstable-webgpu',
    );
    await expect(acquireIn(facts({ gpu: fakeGpu(null), deno: '2.9.6' }))).rejects.toThrow(
      /^acquireDevice \(Deno 2\.9\.6\): navigator\.gpu\.requestAdapter\(\) returned null; wgpu found no .*VK_ICD_FILENAMES/,
    );
    await expect(acquireIn(facts({ gpu: fakeGpu(null), document: true }))).rejects.toThrow('acquireDevice (browser): navigator.gpu.requestAdapter() returned null');
    await expect(acquireIn(facts({ document: true }))).rejects.toThrow('acquireDevice (browser): this browser exposes no navigator.gpu');
  });
});

/** An adapter offering `features` and `limits`, whose requestDevice records what it was asked. */
function fakeAdapter(features: string[], limits: Record<string, number>, info: Partial<GPUAdapterInfo> = {}) {
  const asked: GPUDeviceDescriptor[] = [];
  const adapter = {
    features: new Set(features),
    limits,
    info: { vendor: '', architecture: '', device: '', description: '', ...info },
    requestDevice: async (d: GPUDeviceDescriptor) => {
      asked.push(d);
      return { features: new Set(d.requiredFeatures) } as unknown as GPUDevice;
    },
  } as unknown as GPUAdapter;
  return { adapter, asked };
}

describe('opening a device', () => {
  it('asks only for features the adapter offers, and limits within its own', async () => {
    // wgpu on SwiftShader: timestamps but no subgroups, and smaller limits than Dawn's.
    const limits = { maxStorageBufferBindingSize: 1 << 30, maxBufferSize: 1 << 30, maxComputeWorkgroupStorageSize: 32768, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxStorageBuffersPerShaderStage: 10, maxBindGroups: 4 };
    const { adapter, asked } = fakeAdapter(['timestamp-query', 'depth-clip-control'], limits, { vendor: '6880', device: '49374', description: 'SwiftShader Device (Subzero)', isFallbackAdapter: true } as Partial<GPUAdapterInfo>);
    const acquired = await acquireIn(facts({ gpu: fakeGpu(adapter), deno: '2.9.6', node: '24.2.0' }));
    expect(acquired).toMatchObject({ runtime: 'deno', adapterName: 'SwiftShader Device (Subzero)', software: true });
    expect(asked).toHaveLength(1);
    expect(asked[0].requiredFeatures).toEqual(['timestamp-query']);
    const requested = asked[0].requiredLimits as Record<string, number>;
    for (const [name, value] of Object.entries(requested)) expect(value, name).toBeLessThanOrEqual(limits[name as keyof typeof limits]);
    expect(requested).toEqual({ maxStorageBufferBindingSize: 1 << 30, maxBufferSize: 1 << 30, maxComputeWorkgroupStorageSize: 32768, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxStorageBuffersPerShaderStage: 10 });
  });

  it('asks for subgroups where they are offered, and leaves out limits the adapter does not report', () => {
    const { adapter } = fakeAdapter(['subgroups', 'timestamp-query'], { maxBufferSize: 1 << 28 });
    expect(deviceRequest(adapter)).toEqual({ requiredFeatures: ['subgroups', 'timestamp-query'], requiredLimits: { maxBufferSize: 1 << 28 } });
  });

  it('names adapters as Dawn and wgpu describe them', () => {
    const info = (i: Partial<GPUAdapterInfo>) => ({ vendor: '', architecture: '', device: '', description: '', ...i }) as GPUAdapterInfo;
    expect(adapterName(info({ vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0' }))).toBe('google swiftshader (SwiftShader driver 5.0.0)');
    expect(adapterName(info({ vendor: '65541', device: '0', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }))).toBe('llvmpipe (LLVM 15.0.6, 256 bits)');
    expect(adapterName(info({}))).toBe('adapter with no name (GPUAdapter.info is empty)');
    expect(isSoftwareAdapter(info({ vendor: 'google', architecture: 'swiftshader' }))).toBe(true);
    expect(isSoftwareAdapter(info({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100' }))).toBe(false);
  });
});
