/** Where the device came from and what it is. */
export interface AcquiredDevice {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  /** Human-readable adapter name, e.g. "google swiftshader (SwiftShader driver 5.0.0)". */
  readonly adapterName: string;
  /** True for a software rasteriser (SwiftShader) rather than a hardware GPU. */
  readonly software: boolean;
  readonly runtime: 'browser' | 'node';
}

export interface AcquireOptions {
  powerPreference?: GPUPowerPreference;
  /** Node only: skip hardware adapters and go straight to SwiftShader. */
  forceSoftware?: boolean;
  /**
   * Node only: where to look for `vk_swiftshader_icd.json`, instead of the usual places
   * (`SWIFTSHADER_ICD_CANDIDATES`). `WELFORD_SWIFTSHADER_ICD` in the environment is tried first.
   */
  swiftShaderIcdPaths?: string[];
}

/** Where Debian's `chromium` package (and Chrome) put the SwiftShader Vulkan driver. */
export const SWIFTSHADER_ICD_CANDIDATES = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

/**
 * Acquires a WebGPU device in a browser (`navigator.gpu`) or in Node (the `webgpu` package,
 * Dawn). In Node, when no hardware adapter answers, it loads the SwiftShader Vulkan driver.
 * Throws an error listing every attempt when no adapter can be had.
 */
export async function acquireDevice(options: AcquireOptions = {}): Promise<AcquiredDevice> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  const isNode = typeof process !== 'undefined' && !!process.versions?.node && !('document' in globalThis);
  if (!isNode) {
    if (!nav?.gpu) throw new Error('acquireDevice: this browser exposes no navigator.gpu (WebGPU is unavailable or disabled)');
    const adapter = await nav.gpu.requestAdapter({ powerPreference: options.powerPreference });
    if (!adapter) throw new Error('acquireDevice: navigator.gpu.requestAdapter() returned null (the browser refused every adapter)');
    return finish(adapter, 'browser');
  }
  return acquireInNode(options);
}

/**
 * Dawn instances created in Node. Dawn tears down its instance when the JavaScript object is
 * garbage-collected, even while a device made from it is in use, so they are kept for the
 * life of the process.
 */
const liveNodeInstances: GPU[] = [];

/**
 * Dawn's flags for Node. Timestamps are left at the driver's resolution: browsers round them
 * (against timing attacks on web pages), which makes short dispatches read as 0 or 65 µs.
 */
export const DAWN_FLAGS = ['disable-dawn-features=timestamp_quantization'];

async function acquireInNode(options: AcquireOptions): Promise<AcquiredDevice> {
  const tried: string[] = [];
  // The specifier is a variable so browser bundlers leave the native module alone.
  const moduleName = 'webgpu';
  let dawn: { create(flags: string[]): GPU; globals: Record<string, unknown> };
  try {
    dawn = await import(/* @vite-ignore */ moduleName);
  } catch (e) {
    throw new Error(`acquireDevice: the 'webgpu' package (Dawn for Node) could not be loaded: ${(e as Error).message}. Install it with 'pnpm add webgpu'.`);
  }
  for (const [k, v] of Object.entries(dawn.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const fromEnv = process.env.VK_ICD_FILENAMES;
  if (!options.forceSoftware) {
    const gpu = dawn.create(DAWN_FLAGS);
    const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
    liveNodeInstances.push(gpu);
    if (adapter) return finish(adapter, 'node');
    tried.push(fromEnv ? `Vulkan with VK_ICD_FILENAMES=${fromEnv}: no adapter` : 'hardware adapters through Dawn: none found');
  }
  const { existsSync } = await import('node:fs');
  const fromUser = process.env.WELFORD_SWIFTSHADER_ICD;
  const candidates = [...(fromUser ? [fromUser] : []), ...(options.swiftShaderIcdPaths ?? SWIFTSHADER_ICD_CANDIDATES)];
  for (const icd of candidates) {
    if (!existsSync(icd)) {
      tried.push(`SwiftShader at ${icd}: file not found`);
      continue;
    }
    // The Vulkan loader reads this variable when Dawn creates its instance.
    process.env.VK_ICD_FILENAMES = icd;
    const gpu = dawn.create(DAWN_FLAGS);
    const adapter = await gpu.requestAdapter();
    liveNodeInstances.push(gpu);
    if (adapter) return finish(adapter, 'node');
    tried.push(`SwiftShader at ${icd}: no adapter (is the Vulkan loader libvulkan.so.1 installed? Debian: apt-get install libvulkan1)`);
  }
  if (fromEnv === undefined) delete process.env.VK_ICD_FILENAMES;
  else process.env.VK_ICD_FILENAMES = fromEnv;
  throw new Error(
    `acquireDevice: no WebGPU adapter could be had. Tried:\n  - ${tried.join('\n  - ')}\n` +
      `Install Debian's 'chromium' and 'libvulkan1' packages for the SwiftShader software adapter, or set WELFORD_SWIFTSHADER_ICD to a vk_swiftshader_icd.json.`,
  );
}

async function finish(adapter: GPUAdapter, runtime: 'browser' | 'node'): Promise<AcquiredDevice> {
  const info = adapter.info;
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has('subgroups')) requiredFeatures.push('subgroups');
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    },
  });
  const name = [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  const detail = info.description || info.device;
  const adapterName = detail ? `${name} (${detail})` : name;
  const software = /swiftshader|llvmpipe|software|warp/i.test(`${info.vendor} ${info.architecture} ${info.description} ${info.device}`);
  return { device, adapter, adapterName, software, runtime };
}
