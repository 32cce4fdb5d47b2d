import { expect } from 'vitest';
import { acquireDevice, crossEntropy, flatten, fromArray, globalAvgPool2d, noGrad, setBackend, tidy, WebGpuBackend, type Optimizer, type Tensor } from '@welford/core';
import { BatchNorm2d, Conv2d, GroupNorm, Linear, Module, ReLU, type AnyModule } from '@welford/layers';
import type { Probes } from '../src/index.ts';

let gpu: WebGpuBackend | null = null;

/** The WebGPU backend on the real adapter (SwiftShader where there is no GPU), made the default. */
export async function useGpu(): Promise<WebGpuBackend> {
  gpu ??= new WebGpuBackend(await acquireDevice());
  setBackend(gpu);
  return gpu;
}

/**
 * A small CNN like `smallCnn`: conv1 → bn1 (BatchNorm2d) → relu1 → conv2 (stride 2) → gn
 * (GroupNorm) → relu2 → global average pool → fc; each norm is followed by a ReLU module.
 */
export class Net extends Module {
  readonly conv1 = this.registerModule('conv1', new Conv2d(2, 4, 3, { padding: 1, bias: false }));
  readonly bn1 = this.registerModule('bn1', new BatchNorm2d(4));
  readonly relu1 = this.registerModule('relu1', new ReLU());
  readonly conv2 = this.registerModule('conv2', new Conv2d(4, 6, 3, { stride: 2, padding: 1, bias: false }));
  readonly gn = this.registerModule('gn', new GroupNorm(3, 6));
  readonly relu2 = this.registerModule('relu2', new ReLU());
  readonly fc = this.registerModule('fc', new Linear(6, 3));

  forward(x: Tensor): Tensor {
    const h = this.relu1.call(this.bn1.call(this.conv1.call(x)));
    return this.fc.call(flatten(globalAvgPool2d(this.relu2.call(this.gn.call(this.conv2.call(h)))), 1));
  }
}

/** Forward, backward and optimizer step, with the probes' calls where a loop makes them. */
export function trainStep(model: AnyModule, opt: Optimizer, x: Tensor, labels: Tensor, probes?: Probes): void {
  tidy(() => {
    crossEntropy(model.call(x) as Tensor, labels).backward();
  });
  probes?.beforeOptimizerStep();
  opt.step();
  probes?.afterOptimizerStep();
  probes?.step();
  model.zeroGrad();
}

/** Runs fn without gradients and frees every tensor it made (its result included). */
export function discard(fn: () => unknown): void {
  tidy(() => {
    noGrad(fn);
  });
}

/** Labels [n] cycling through 3 classes. */
export function labelsOf(n: number): Tensor {
  return fromArray(Array.from({ length: n }, (_, i) => i % 3), [n]);
}

/** What a forward hook saw on a module's first call: its input and output, read back. */
export interface Seen {
  shape: readonly number[];
  input: Promise<Float32Array>;
  output: Promise<Float32Array>;
  outputShape: readonly number[];
}

/** Reads back the input and output of a module's next call (the readback starts inside the hook). */
export function captureNext(module: AnyModule): Promise<Seen> {
  return new Promise((resolve) => {
    const handle = module.registerForwardHook((_m: AnyModule, inputs: unknown[], output: unknown) => {
      handle.remove();
      const x = inputs[0] as Tensor;
      const y = output as Tensor;
      resolve({ shape: x.shape, input: x.toArray(), output: y.toArray(), outputShape: y.shape });
    });
  });
}

/** Per-channel mean and biased variance in float64, over every axis but `axis`. */
export function hostChannelStats(data: Float32Array, shape: readonly number[], axis = 1): { mean: number[]; var: number[] } {
  const c = shape[axis];
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const sums = new Float64Array(c);
  const counts = new Float64Array(c);
  data.forEach((v, i) => {
    const ch = Math.floor(i / inner) % c;
    sums[ch] += v;
    counts[ch] += 1;
  });
  const mean = Array.from(sums, (s, ch) => s / counts[ch]);
  const m2 = new Float64Array(c);
  data.forEach((v, i) => {
    const ch = Math.floor(i / inner) % c;
    m2[ch] += (v - mean[ch]) ** 2;
  });
  return { mean, var: Array.from(m2, (s, ch) => s / counts[ch]) };
}

/** ‖values‖₂ in float64. */
export function hostNorm(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * values[i];
  return Math.sqrt(s);
}

/** Asserts |got - want| <= atol + rtol·|want| elementwise, naming the first failure. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, atol = 1e-5, rtol = 1e-4, what = 'value'): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (w === g || (Number.isNaN(w) && Number.isNaN(g))) continue;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) expect.fail(`${what}[${i}]: got ${g}, want ${w} (atol ${atol}, rtol ${rtol})`);
  }
}
