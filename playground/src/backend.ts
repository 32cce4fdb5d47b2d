// Where tensors live: WebGPU when the browser has it, else (only when the user chooses it) the
// CPU reference backend. A lost GPU device is reported once, with its reason.
import { init, WebGpuBackend, type Backend } from '@welford/core';

export type BackendResult = { ok: true; backend: Backend } | { ok: false; reason: string };

/** Tries WebGPU; says why not when it cannot be had. Never falls back on its own. */
export async function startWebGpu(): Promise<BackendResult> {
  try {
    return { ok: true, backend: await init() };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

/** The CPU reference backend (plain TypeScript; slow, for the small CNN). */
export function startCpu(): Promise<Backend> {
  return init({ backend: 'cpu' });
}

/** The adapter in words: "google swiftshader [software]" or "CPU reference backend". */
export function adapterName(backend: Backend): string {
  return backend instanceof WebGpuBackend ? backend.description.replace(/^webgpu: /, '') : 'CPU reference backend (no GPU)';
}

/**
 * Calls `onLost` when the backend's GPU device is lost (a driver reset, the GPU process
 * crashing, `device.destroy()`), unless `isCurrent()` says the backend was already replaced.
 */
export function watchDeviceLoss(backend: Backend, isCurrent: () => boolean, onLost: (reason: string) => void): void {
  if (!(backend instanceof WebGpuBackend)) return;
  void backend.device.lost.then((info) => {
    if (isCurrent()) onLost(info.message || `the device was ${info.reason ?? 'lost'}`);
  });
}
