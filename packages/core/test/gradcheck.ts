import { expect } from 'vitest';
import { fromArray, noGrad, type Backend, type Tensor } from '../src/index.ts';
import { Random } from '../src/util/random.ts';
import { cpuBackend } from './helpers.ts';

export interface GradInput {
  shape: number[];
  data: Float32Array;
  /** False for inputs that get no gradient (class indices, say). Default true. */
  requiresGrad?: boolean;
}

/**
 * Checks the backward rules of `fn` by central finite differences on the CPU reference.
 * The scalar checked is L = Σ w ⊙ fn(inputs) for a fixed random w, so every output element
 * contributes; analytic gradients come from `backward(w)`.
 */
export async function gradcheck(
  fn: (...xs: Tensor[]) => Tensor,
  inputs: GradInput[],
  { eps = 1e-2, atol = 2e-3, rtol = 2e-2, seed = 7 }: { eps?: number; atol?: number; rtol?: number; seed?: number } = {},
): Promise<void> {
  const backend = cpuBackend();
  const leaves = inputs.map((x) => fromArray(x.data, x.shape, { backend, requiresGrad: x.requiresGrad ?? true }));
  const out = fn(...leaves);
  const rng = new Random(seed);
  const w = Float32Array.from({ length: out.size }, () => rng.uniform() * 2 - 1);
  out.backward(fromArray(w, out.shape, { backend }));
  const loss = (values: Float32Array[]): number =>
    noGrad(() => {
      const y = fn(...values.map((v, i) => fromArray(v, inputs[i].shape, { backend })));
      const data = (y.storageFor('gradcheck') as unknown as { data: Float32Array }).data;
      let s = 0;
      for (let i = 0; i < data.length; i++) s += w[i] * data[i];
      return s;
    });
  for (let k = 0; k < inputs.length; k++) {
    if (inputs[k].requiresGrad === false) continue;
    const analytic = await leaves[k].grad!.toArray();
    const values = inputs.map((x) => Float32Array.from(x.data));
    for (let i = 0; i < values[k].length; i++) {
      const original = values[k][i];
      values[k][i] = original + eps;
      const up = loss(values);
      values[k][i] = original - eps;
      const down = loss(values);
      values[k][i] = original;
      const numeric = (up - down) / (2 * eps);
      const ok = Math.abs(analytic[i] - numeric) <= atol + rtol * Math.abs(numeric);
      if (!ok) expect.fail(`gradcheck input ${k}[${i}]: analytic ${analytic[i]}, numeric ${numeric}`);
    }
  }
}

/** Runs `fn` on both backends with the same inputs and upstream gradient; compares outputs and gradients. */
export async function compareBackward(
  fn: (...xs: Tensor[]) => Tensor,
  inputs: GradInput[],
  gpu: Backend,
  { atol = 1e-4, rtol = 1e-4, seed = 11 }: { atol?: number; rtol?: number; seed?: number } = {},
): Promise<void> {
  const run = async (backend: Backend) => {
    const leaves = inputs.map((x) => fromArray(x.data, x.shape, { backend, requiresGrad: x.requiresGrad ?? true }));
    const out = fn(...leaves);
    const rng = new Random(seed);
    out.backward(fromArray(Float32Array.from({ length: out.size }, () => rng.uniform() * 2 - 1), out.shape, { backend }));
    return { out: await out.toArray(), grads: await Promise.all(leaves.map((l) => l.grad?.toArray() ?? null)) };
  };
  const g = await run(gpu);
  const c = await run(cpuBackend());
  const { expectClose } = await import('./helpers.ts');
  expectClose(g.out, c.out, atol, rtol, 'forward');
  g.grads.forEach((gg, i) => {
    const cc = c.grads[i];
    if (cc === null) {
      expect(gg, `gradient ${i}`).toBeNull();
      return;
    }
    expect(gg, `gradient ${i}`).not.toBeNull();
    expectClose(gg!, cc, atol, rtol, `gradient ${i}`);
  });
}
