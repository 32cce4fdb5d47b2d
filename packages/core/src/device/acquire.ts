import type { AcquireOptions } from './acquire_options.ts';
import { openDevice, type AcquiredDevice } from './open_device.ts';
import { chooseDeviceSource, noAdapterHint, runtimeFacts, runtimeLabel, type RuntimeFacts } from './runtime.ts';

export type { AcquiredDevice } from './open_device.ts';
export type { AcquireOptions } from './acquire_options.ts';
export { openDevice } from './open_device.ts';

export { SWIFTSHADER_ICD_CANDIDATES, DAWN_FLAGS, swiftShaderIcdCandidates } from './dawn_settings.ts';

/**
 * Acquires a WebGPU device from the runtime's own `navigator.gpu` wherever it has one (browsers,
 * web workers, Deno's wgpu), and in Node, which has none, from Dawn (the `webgpu` package),
 * loading the SwiftShader Vulkan driver when no hardware adapter answers. Throws an error naming
 * the runtime and what was tried when no adapter can be had.
 */
export async function acquireDevice(options: AcquireOptions = {}): Promise<AcquiredDevice> {
  return acquireIn(runtimeFacts(), options);
}

/** acquireDevice for the given facts about the runtime (a fake `navigator.gpu` in tests). */
export async function acquireIn(facts: RuntimeFacts, options: AcquireOptions = {}): Promise<AcquiredDevice> {
  const source = chooseDeviceSource(facts);
  const where = `acquireDevice (${runtimeLabel(facts)})`;
  if (source.from === 'none') throw new Error(`${where}: ${source.reason}`);
  if (source.from === 'navigator') {
    const adapter = await source.gpu.requestAdapter({ powerPreference: options.powerPreference });
    if (!adapter) throw new Error(`${where}: navigator.gpu.requestAdapter() returned null; ${noAdapterHint(source.runtime)}`);
    return openDevice(adapter, source.runtime);
  }
  // Resolved through package.json "imports": Node gets the Dawn loader, every other runtime a
  // module that only throws, so that a browser bundle never contains Node-only code.
  const { acquireInNode } = await import('#node-adapter');
  return acquireInNode(options, where);
}
