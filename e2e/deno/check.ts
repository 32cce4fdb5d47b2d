// One check of the Deno suite: it throws on failure, naming what differed, and may return a
// short note for its line (the largest difference seen), or a skip with its reason.
import { fromArray, Random, sizeOf, type Backend, type CpuBackend, type Tensor, type WebGpuBackend } from '@welford/core';

export interface CheckContext {
  readonly gpu: WebGpuBackend;
  readonly cpu: CpuBackend;
}

/** What a check returns when the device lacks what it needs. */
export interface Skip {
  readonly skip: string;
}

export interface Check {
  readonly name: string;
  run(ctx: CheckContext): Promise<string | Skip | void>;
}

/** A leaf of a compared computation: its shape and values. */
export interface Operand {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Seeded values in [offset - scale, offset + scale). */
export function operand(shape: readonly number[], seed: number, scale = 1, offset = 0): Operand {
  const rng = new Random(seed);
  return { shape, data: Float32Array.from({ length: sizeOf(shape) }, () => offset + (rng.uniform() * 2 - 1) * scale) };
}

/**
 * Asserts |got - want| <= atol + rtol·|want| elementwise (NaN matches NaN), naming the first
 * failure; returns the largest |got - want|.
 */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number, what: string): number {
  if (got.length !== want.length) throw new Error(`${what}: length ${got.length}, want ${want.length}`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(g) && Number.isNaN(w)) continue;
    const d = Math.abs(g - w);
    if (!(d <= atol + rtol * Math.abs(w))) throw new Error(`${what}[${i}]: got ${g}, want ${w} (atol ${atol}, rtol ${rtol})`);
    worst = Math.max(worst, d);
  }
  return worst;
}

/**
 * Runs `fn` forward and backward (with the same seeded upstream gradient) on the GPU and on
 * the CPU reference, and compares the output and every input's gradient.
 */
export async function compareForwardBackward(
  ctx: CheckContext,
  fn: (...xs: Tensor[]) => Tensor,
  operands: readonly Operand[],
  { atol = 1e-4, rtol = 1e-3 }: { atol?: number; rtol?: number } = {},
): Promise<string> {
  const run = async (backend: Backend) => {
    const leaves = operands.map((o) => fromArray(o.data, o.shape, { backend, requiresGrad: true }));
    const out = fn(...leaves);
    const rng = new Random(11);
    out.backward(fromArray(Float32Array.from({ length: out.size }, () => rng.uniform() * 2 - 1), out.shape, { backend }));
    const grads = await Promise.all(leaves.map((l) => l.grad?.toArray() ?? null));
    return { shape: [...out.shape], out: await out.toArray(), grads };
  };
  const g = await run(ctx.gpu);
  const c = await run(ctx.cpu);
  if (g.shape.join() !== c.shape.join()) throw new Error(`output shape [${g.shape}], want [${c.shape}]`);
  let worst = expectClose(g.out, c.out, atol, rtol, 'forward');
  c.grads.forEach((want, i) => {
    const got = g.grads[i];
    if ((want === null) !== (got === null)) throw new Error(`gradient ${i}: ${got === null ? 'missing' : 'unexpected'}`);
    if (want && got) worst = Math.max(worst, expectClose(got, want, atol, rtol, `gradient ${i}`));
  });
  return `max |Δ| ${worst.toExponential(1)}`;
}
