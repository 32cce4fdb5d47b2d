import type { Backend, MemoryReport } from '../backend/backend.ts';
import { CpuBackend } from '../backend/cpu_backend.ts';
import { WebGpuBackend } from '../backend/webgpu/webgpu_backend.ts';
import { acquireDevice, type AcquireOptions } from '../device/acquire.ts';

let current: Backend | null = null;

export interface InitOptions extends AcquireOptions {
  /** 'webgpu' (default) or 'cpu' (the TypeScript reference; explicit). */
  backend?: 'webgpu' | 'cpu';
  /**
   * When WebGPU cannot be had: false (default) throws; true falls back to the CPU backend
   * and announces it through `onFallback` (console.warn by default).
   */
  allowCpuFallback?: boolean;
  onFallback?: (message: string) => void;
}

/** Chooses the backend new tensors live on. Returns it. */
export async function init(options: InitOptions = {}): Promise<Backend> {
  if (options.backend === 'cpu') return setBackend(new CpuBackend());
  try {
    return setBackend(new WebGpuBackend(await acquireDevice(options)));
  } catch (e) {
    if (!options.allowCpuFallback) throw e;
    const message = `welford: WebGPU unavailable, using the CPU backend instead. ${(e as Error).message}`;
    (options.onFallback ?? console.warn)(message);
    return setBackend(new CpuBackend());
  }
}

export function setBackend(backend: Backend): Backend {
  current = backend;
  return backend;
}

/** The backend new tensors are created on; throws if `init()` has not run. */
export function getBackend(): Backend {
  if (!current) throw new Error('welford: no backend; call `await init()` (WebGPU) or `await init({ backend: "cpu" })` first');
  return current;
}

/** Live and pooled memory of a backend (the current one by default). */
export function memory(backend: Backend = getBackend()): MemoryReport {
  return backend.memory();
}
