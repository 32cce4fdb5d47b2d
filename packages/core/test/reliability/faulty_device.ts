// Fault injection for the WebGPU backend: a real device whose error scopes report out of
// memory for chosen buffer sizes, as a GPU that ran out would. Everything else is the device's own.
import { acquireDevice, WebGpuBackend } from '../../src/index.ts';

export interface FaultyDevice {
  backend: WebGpuBackend;
  /** Buffer sizes (bytes, after the pool's rounding) whose creation reports out of memory. */
  failSizes: Set<number>;
  /** How many creations were made to fail. */
  failures: number;
}

/** A WebGPU backend on a fresh device whose `createBuffer` fails (asynchronously, as WebGPU does) for `failSizes`. */
export async function faultyBackend(): Promise<FaultyDevice> {
  const acquired = await acquireDevice();
  const real = acquired.device;
  const fault: FaultyDevice = { backend: null as unknown as WebGpuBackend, failSizes: new Set(), failures: 0 };
  // Scopes pushed and whether the creation inside each must fail, innermost last.
  const scopes: boolean[] = [];
  const device = new Proxy(real, {
    get(target, key) {
      if (key === 'pushErrorScope') {
        return (filter: GPUErrorFilter) => {
          scopes.push(false);
          target.pushErrorScope(filter);
        };
      }
      if (key === 'createBuffer') {
        return (descriptor: GPUBufferDescriptor) => {
          if (fault.failSizes.has(descriptor.size) && scopes.length > 0) {
            scopes[scopes.length - 1] = true;
            fault.failures++;
          }
          return target.createBuffer(descriptor);
        };
      }
      if (key === 'popErrorScope') {
        return async () => {
          const fail = scopes.pop() ?? false;
          const error = await target.popErrorScope();
          return fail ? new GPUOutOfMemoryError('injected: not enough memory left for this buffer') : error;
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      // Native methods need the real device as `this`.
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  fault.backend = new WebGpuBackend({ ...acquired, device });
  return fault;
}
