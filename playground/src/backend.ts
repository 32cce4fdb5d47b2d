// Where tensors live: WebGPU when the browser has it, else (only when the user chooses it) the
// CPU reference backend. A lost GPU device is reported once, with its reason.
import { DeviceLostError, init, WebGpuBackend, type Backend } from '@welford/core';

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
 * Calls `onLost` with core's DeviceLostError (the error every later call on the backend throws)
 * when the backend's GPU device is lost (a driver reset, the GPU process crashing,
 * `device.destroy()`), unless `isCurrent()` says the backend was already replaced.
 */
export function watchDeviceLoss(backend: Backend, isCurrent: () => boolean, onLost: (error: DeviceLostError) => void): void {
  if (!(backend instanceof WebGpuBackend)) return;
  void backend.lost.then((error) => {
    if (isCurrent()) onLost(error);
  });
}

/**
 * The device loss behind a failure, or null when there is none. Core already turns a read that
 * the loss aborted into the DeviceLostError (it waits for the loss to be reported).
 */
export function lossBehind(error: unknown, backend: Backend | undefined): DeviceLostError | null {
  if (error instanceof DeviceLostError) return error;
  return backend instanceof WebGpuBackend ? backend.lostError : null;
}

/** A loss in words: its reason and the implementation's message, e.g. "destroyed: Device was destroyed". */
export function describeLoss(error: DeviceLostError): string {
  const detail = error.detail.trim().replace(/\.$/, '');
  return detail ? `${error.reason}: ${detail}` : error.reason;
}

/** Destroys the backend's GPU device, as a driver reset would (for tests and the console). */
export function destroyDevice(backend: Backend | null): void {
  if (backend instanceof WebGpuBackend) backend.device.destroy();
}
