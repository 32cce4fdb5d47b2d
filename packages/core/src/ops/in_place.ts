import type { Backend } from '../backend/backend.ts';
import type { CpuStorage } from '../backend/cpu_backend.ts';
import { WebGpuBackend } from '../backend/webgpu/webgpu_backend.ts';
import type { Program } from '../kernels/program.ts';
import type { Tensor } from '../tensor/tensor.ts';

/**
 * Runs an update that writes its tensors' storage in place: on WebGPU, `program` with the
 * tensors bound by WGSL variable name; on the CPU, `cpu` on their host arrays.
 */
export function runInPlace(
  op: string,
  backend: Backend,
  tensors: Record<string, Tensor>,
  program: Omit<Program, 'bindings'>,
  cpu: (data: Record<string, Float32Array>) => void,
): void {
  if (backend instanceof WebGpuBackend) {
    const bindings: Program['bindings'] = {};
    for (const [name, t] of Object.entries(tensors)) bindings[name] = t.storageFor(op);
    backend.run({ ...program, bindings });
  } else {
    const data: Record<string, Float32Array> = {};
    for (const [name, t] of Object.entries(tensors)) data[name] = (t.storageFor(op) as CpuStorage).data;
    cpu(data);
  }
}
