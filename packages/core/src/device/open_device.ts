// Opening a device on an adapter, the same in every runtime: the features and limits welford
// uses, asked for only where the adapter offers them (Dawn and wgpu offer different sets).
import type { WebGpuRuntime } from './runtime.ts';

/** Where the device came from and what it is. */
export interface AcquiredDevice {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  /** Human-readable adapter name, e.g. "google swiftshader (SwiftShader driver 5.0.0)". */
  readonly adapterName: string;
  /** True for a software rasteriser (SwiftShader, llvmpipe) rather than a hardware GPU. */
  readonly software: boolean;
  /** The runtime whose WebGPU made the device: a browser's or Deno's `navigator.gpu`, or Dawn in Node. */
  readonly runtime: WebGpuRuntime;
}

/** Optional features welford uses where they are offered; each has a fallback without it. */
const WANTED_FEATURES: readonly GPUFeatureName[] = ['subgroups', 'timestamp-query'];

/** Limits welford raises from the defaults, each to what the adapter allows. */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxStorageBuffersPerShaderStage',
] as const;

/** What `requestDevice` is asked for: only features and limits the adapter reports. */
export function deviceRequest(adapter: Pick<GPUAdapter, 'features' | 'limits'>): GPUDeviceDescriptor {
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    const value = adapter.limits[name];
    if (typeof value === 'number' && Number.isFinite(value)) requiredLimits[name] = value;
  }
  return { requiredFeatures, requiredLimits };
}

/**
 * The adapter's name from its info: "vendor architecture (description)". wgpu reports the vendor
 * as a PCI id in decimal ("6880"), which names nothing, so a numeric vendor is left out. Firefox
 * withholds the info from pages (every field empty): then the name says that it is empty.
 */
export function adapterName(info: Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'description' | 'device'>): string {
  const vendor = /^\d+$/.test(info.vendor) ? '' : info.vendor;
  const name = [vendor, info.architecture].filter(Boolean).join(' ');
  const detail = info.description || (/^\d+$/.test(info.device) ? '' : info.device);
  if (name && detail) return `${name} (${detail})`;
  return name || detail || 'adapter with no name (GPUAdapter.info is empty)';
}

/** Whether the adapter is a software rasteriser, by its own word or by its name. */
export function isSoftwareAdapter(info: GPUAdapterInfo): boolean {
  if ((info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true) return true;
  return /swiftshader|llvmpipe|lavapipe|software|warp/i.test(`${info.vendor} ${info.architecture} ${info.description} ${info.device}`);
}

/** Opens a device on `adapter` with the features and limits welford uses. */
export async function openDevice(adapter: GPUAdapter, runtime: WebGpuRuntime): Promise<AcquiredDevice> {
  const device = await adapter.requestDevice(deviceRequest(adapter));
  const info = adapter.info;
  return { device, adapter, adapterName: adapterName(info), software: isSoftwareAdapter(info), runtime };
}
