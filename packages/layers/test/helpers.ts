import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { acquireDevice, CpuBackend, fromArray, setBackend, WebGpuBackend, type Backend, type Tensor } from '@welford/core';

let gpu: WebGpuBackend | null = null;

/** The WebGPU backend on the real adapter (SwiftShader where there is no GPU), made the default. */
export async function useGpu(): Promise<WebGpuBackend> {
  gpu ??= new WebGpuBackend(await acquireDevice());
  setBackend(gpu);
  return gpu;
}

/** A fresh CPU reference backend, made the default. */
export function useCpu(): Backend {
  return setBackend(new CpuBackend());
}

/** A tensor as fixtures store it: shape and row-major float32 values. */
export interface FixtureTensor {
  shape: number[];
  data: number[];
}

/** Reads a JSON fixture from packages/layers/test/fixtures. */
export function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

/** Reads a binary fixture (e.g. a .safetensors file) from packages/layers/test/fixtures. */
export function readFixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
}

export function tensorOf(t: FixtureTensor, requiresGrad = false): Tensor {
  return fromArray(t.data, t.shape, { requiresGrad });
}

/** Asserts |got - want| <= atol + rtol·|want| elementwise, naming the first failure. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, atol = 1e-5, rtol = 1e-5, what = 'value'): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (w === g || (Number.isNaN(w) && Number.isNaN(g))) continue;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) expect.fail(`${what}[${i}]: got ${g}, want ${w} (atol ${atol}, rtol ${rtol})`);
  }
}

/** Compares a tensor with a fixture tensor: shape, then values. */
export async function expectMatches(got: Tensor, want: FixtureTensor, atol = 1e-5, rtol = 1e-5, what = 'tensor'): Promise<void> {
  expect([...got.shape], `${what}: shape`).toEqual(want.shape);
  expectClose(await got.toArray(), want.data, atol, rtol, what);
}
