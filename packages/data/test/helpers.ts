import { acquireDevice, CpuBackend, WebGpuBackend } from '@welford/core';
import type { RandomSource } from '../src/index.ts';

let gpu: WebGpuBackend | null = null;

/** The WebGPU backend on the real adapter (SwiftShader where there is no GPU), shared by a test file. */
export async function gpuBackend(): Promise<WebGpuBackend> {
  gpu ??= new WebGpuBackend(await acquireDevice());
  return gpu;
}

export function cpuBackend(): CpuBackend {
  return new CpuBackend();
}

/** A random source that replays the given uniforms (and normals), so a test knows every draw. */
export function scripted(uniforms: number[], normals: number[] = []): RandomSource & { left(): number } {
  let u = 0;
  let n = 0;
  return {
    uniform: () => {
      if (u >= uniforms.length) throw new Error('scripted: out of uniforms');
      return uniforms[u++];
    },
    normal: () => {
      if (n >= normals.length) throw new Error('scripted: out of normals');
      return normals[n++];
    },
    left: () => uniforms.length - u + normals.length - n,
  };
}

/** An IDX buffer of uint8 values with the given dimensions. */
export function idxBytes(dims: number[], values: number[], magicType = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + values.length);
  const view = new DataView(out.buffer);
  out[2] = magicType;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(values, 4 + 4 * dims.length);
  return out;
}
