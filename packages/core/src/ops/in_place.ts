import type { Backend } from '../backend/backend.ts';
import type { Storage } from '../backend/storage.ts';
import type { Program } from '../backend/webgpu/program.ts';
import type { Tensor } from '../tensor/tensor.ts';

/**
 * Runs an update that writes its tensors' storage in place: `program` with the tensors bound
 * by WGSL variable name on a GPU, `cpu` on their host arrays on the CPU (the backend picks).
 */
export function runInPlace(
  op: string,
  backend: Backend,
  tensors: Record<string, Tensor>,
  program: Omit<Program, 'bindings'>,
  cpu: (data: Record<string, Float32Array>) => void,
): void {
  const storages: Record<string, Storage> = {};
  // Any of them may be written: deferred work reading one keeps its values first.
  for (const [name, t] of Object.entries(tensors)) storages[name] = t.storageForWrite(op);
  backend.update({ name: op, cpu, gpu: (bindings) => [{ ...program, bindings }] }, storages);
}
