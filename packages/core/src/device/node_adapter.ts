// acquireDevice in Node: Dawn from the `webgpu` package, on a hardware adapter where a Vulkan
// driver is installed, else on the SwiftShader Vulkan driver that ships beside Chromium. Only Node
// loads this module (package.json "imports", condition "node").
import { existsSync } from 'node:fs';
import type { AcquireOptions } from './acquire_options.ts';
import { openDevice, type AcquiredDevice } from './open_device.ts';
import { DAWN_FLAGS, swiftShaderIcdCandidates } from './dawn_settings.ts';
import { installedVulkanDrivers } from './vulkan_drivers.ts';

/**
 * Dawn instances created in Node. Dawn tears down its instance when the JavaScript object is
 * garbage-collected, even while a device made from it is in use, so they are kept for the
 * life of the process.
 */
const liveNodeInstances: GPU[] = [];

/** `where` names the caller and the runtime in errors, e.g. "acquireDevice (Node 20.19.0)". */
export async function acquireInNode(options: AcquireOptions, where = 'acquireDevice'): Promise<AcquiredDevice> {
  const tried: string[] = [];
  // The specifier is a variable so that bundlers leave the native module to Node.
  const moduleName = 'webgpu';
  let dawn: { create(flags: string[]): GPU; globals: Record<string, unknown> };
  try {
    dawn = await import(/* @vite-ignore */ moduleName);
  } catch (e) {
    throw new Error(`${where}: the 'webgpu' package (Dawn for Node) could not be loaded: ${(e as Error).message}. Install it with 'pnpm add webgpu'.`);
  }
  for (const [k, v] of Object.entries(dawn.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const fromEnv = process.env.VK_ICD_FILENAMES;
  if (!options.forceSoftware && installedVulkanDrivers() === 0) {
    // Asking Dawn anyway would only make the Vulkan loader print "Found no drivers!" on stderr.
    tried.push('hardware adapters through Dawn: skipped, no Vulkan driver is installed (no manifest in the vulkan/icd.d folders)');
  } else if (!options.forceSoftware) {
    const gpu = dawn.create(DAWN_FLAGS);
    const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
    liveNodeInstances.push(gpu);
    if (adapter) return openDevice(adapter, 'node');
    tried.push(fromEnv ? `Vulkan with VK_ICD_FILENAMES=${fromEnv}: no adapter` : 'hardware adapters through Dawn: none found');
  }
  for (const icd of swiftShaderIcdCandidates(process.env.WELFORD_SWIFTSHADER_ICD, options.swiftShaderIcdPaths)) {
    if (!existsSync(icd)) {
      tried.push(`SwiftShader at ${icd}: file not found`);
      continue;
    }
    // The Vulkan loader reads this variable when Dawn creates its instance.
    process.env.VK_ICD_FILENAMES = icd;
    const gpu = dawn.create(DAWN_FLAGS);
    const adapter = await gpu.requestAdapter();
    liveNodeInstances.push(gpu);
    if (adapter) return openDevice(adapter, 'node');
    tried.push(`SwiftShader at ${icd}: no adapter (is the Vulkan loader libvulkan.so.1 installed? Debian: apt-get install libvulkan1)`);
  }
  if (fromEnv === undefined) delete process.env.VK_ICD_FILENAMES;
  else process.env.VK_ICD_FILENAMES = fromEnv;
  throw new Error(
    `${where}: no WebGPU adapter could be had. Tried:\n  - ${tried.join('\n  - ')}\n` +
      `Install Debian's 'chromium' and 'libvulkan1' packages for the SwiftShader software adapter, or set WELFORD_SWIFTSHADER_ICD to a vk_swiftshader_icd.json.`,
  );
}

