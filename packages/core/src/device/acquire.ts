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

export { SWIFTSHADER_ICD_CANDIDATES, DAWN_FLAGS } from './dawn_settings.ts';

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
    return openDevice(adapter, 'browser');
  }
  // Resolved through package.json "imports": Node gets the Dawn loader, every other runtime a
  // module that only throws, so that a browser bundle never contains Node-only code.
  const { acquireInNode } = await import('#node-adapter');
  return acquireInNode(options);
}

/** Opens a device on `adapter` with the features and limits welford uses. */
export async function openDevice(adapter: GPUAdapter, runtime: 'browser' | 'node'): Promise<AcquiredDevice> {
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
