// Node: the backend a command runs on, WebGPU (Dawn; SwiftShader where there is no GPU) unless
// --cpu asks for the CPU reference, with a message that says what to do when WebGPU is missing.
import { init, type Backend } from '@welford/core';
import { RunError } from '../errors.ts';

export async function startBackend(cpu: boolean): Promise<Backend> {
  if (cpu) return init({ backend: 'cpu' });
  try {
    return await init();
  } catch (e) {
    throw new RunError(`cannot start WebGPU: ${e instanceof Error ? e.message : String(e)}\n(--cpu runs on the CPU reference instead, much more slowly)`);
  }
}
