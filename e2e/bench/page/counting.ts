// Counts the GPU calls both frameworks make, by wrapping the WebGPU prototypes before either
// framework starts: compute dispatches and buffer creations. Both frameworks run in this page
// one after the other, so the difference of two snapshots belongs to whoever ran between them.

export interface GpuCalls {
  dispatches: number;
  buffers: number;
}

const calls: GpuCalls = { dispatches: 0, buffers: 0 };
let installed = false;

/** Wraps dispatchWorkgroups, dispatchWorkgroupsIndirect and createBuffer; idempotent. */
export function installCounters(): void {
  if (installed) return;
  installed = true;
  const pass = GPUComputePassEncoder.prototype;
  const dispatch = pass.dispatchWorkgroups;
  pass.dispatchWorkgroups = function (this: GPUComputePassEncoder, x: number, y?: number, z?: number): undefined {
    calls.dispatches++;
    return dispatch.call(this, x, y, z);
  };
  const indirect = pass.dispatchWorkgroupsIndirect;
  pass.dispatchWorkgroupsIndirect = function (this: GPUComputePassEncoder, buffer: GPUBuffer, offset: number): undefined {
    calls.dispatches++;
    return indirect.call(this, buffer, offset);
  };
  const device = GPUDevice.prototype;
  const createBuffer = device.createBuffer;
  device.createBuffer = function (this: GPUDevice, descriptor: GPUBufferDescriptor): GPUBuffer {
    calls.buffers++;
    return createBuffer.call(this, descriptor);
  };
}

/** The counts so far. */
export function snapshot(): GpuCalls {
  return { ...calls };
}

/** Counts since `from`, per repetition. */
export function perRep(from: GpuCalls, reps: number): GpuCalls {
  return { dispatches: (calls.dispatches - from.dispatches) / reps, buffers: (calls.buffers - from.buffers) / reps };
}
