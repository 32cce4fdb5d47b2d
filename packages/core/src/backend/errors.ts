// The errors a backend raises about its device rather than about an op's arguments.
import { shapeToString, type Shape } from '../util/shape.ts';

/** Where an allocation comes from, for messages: the op and the shape of the tensor it makes. */
export interface AllocationSite {
  readonly op: string;
  readonly shape: Shape;
}

/**
 * The device is gone: a driver reset, the GPU process crashing, the page put away, or
 * `device.destroy()`. Every later call on its backend throws this. Tensors on it are lost;
 * `init()` gives a new device, on which a model is rebuilt or reloaded from saved weights.
 */
export class DeviceLostError extends Error {
  override readonly name = 'DeviceLostError';

  constructor(
    /** WebGPU's GPUDeviceLostReason: 'destroyed' or 'unknown'. */
    readonly reason: string,
    /** The implementation's message. */
    readonly detail: string,
  ) {
    super(`WebGPU device lost (${reason}): ${detail.replace(/\.+$/, '') || 'no message'}. Its tensors are gone: call init() for a new device, then rebuild the model or load saved weights`);
  }
}

/**
 * An allocation the device cannot make: larger than its limits (raised by the call that asked
 * for it, before anything reaches the GPU), or out of memory (which WebGPU reports later; see
 * `WebGpuBackend.read`).
 */
export class AllocationError extends Error {
  override readonly name = 'AllocationError';

  constructor(
    message: string,
    readonly site: AllocationSite,
    readonly bytes: number,
    /** 'limit': larger than the device allows in one buffer; 'out-of-memory': the device had no room. */
    readonly kind: 'limit' | 'out-of-memory',
  ) {
    super(message);
  }
}

/** 1.2 GB, 512 MiB-style sizes for messages: decimal units, with the exact byte count beside them. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${bytes} bytes` : `${v.toPrecision(3)} ${units[u]} (${bytes} bytes)`;
}

/** "conv2d: the output of shape [..]" or "alloc: a buffer of N floats" when the site is not known. */
export function describeSite(site: AllocationSite): string {
  return `${site.op}: the tensor of shape ${shapeToString(site.shape)}`;
}
