import { expect } from 'vitest';
import { CpuBackend, WebGpuBackend, acquireDevice, fromArray, setBackend, type Backend, type Tensor } from '../src/index.ts';
import { Random } from '../src/util/random.ts';

let gpu: WebGpuBackend | null = null;
const cpu = new CpuBackend();

/** The WebGPU backend on the real adapter (SwiftShader where there is no GPU), shared by a test file. */
export async function gpuBackend(): Promise<WebGpuBackend> {
  gpu ??= new WebGpuBackend(await acquireDevice());
  return gpu;
}

export function cpuBackend(): CpuBackend {
  return cpu;
}

/** Makes `backend` the default for ops and creation in this test. */
export function use(backend: Backend): Backend {
  return setBackend(backend);
}

/** Seeded values in [-scale, scale). */
export function randomData(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Random(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng.uniform() * 2 - 1) * scale;
  return out;
}

/** The same values as a tensor on each backend. */
export function onBoth(data: Float32Array, shape: readonly number[], g: Backend, c: Backend = cpu, requiresGrad = false): [Tensor, Tensor] {
  return [fromArray(data, shape, { backend: g, requiresGrad }), fromArray(data, shape, { backend: c, requiresGrad })];
}

/** Asserts |got - want| <= atol + rtol·|want| elementwise (NaN matches NaN), naming the first failure. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, atol = 1e-5, rtol = 1e-5, what = 'value'): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (w === g) continue;
    const ok = Math.abs(g - w) <= atol + rtol * Math.abs(w);
    if (!ok) expect.fail(`${what}[${i}]: got ${g}, want ${w} (atol ${atol}, rtol ${rtol})`);
  }
}

export async function expectTensorsClose(got: Tensor, want: Tensor, atol = 1e-5, rtol = 1e-5, what = 'tensor'): Promise<void> {
  expect([...got.shape], `${what}: shape`).toEqual([...want.shape]);
  expectClose(await got.toArray(), await want.toArray(), atol, rtol, what);
}
