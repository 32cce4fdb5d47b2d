import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import { Random } from '../src/util/random.ts';
import { cpuBackend, gpuBackend } from './helpers.ts';

/** Three interleaved spirals: a small problem a linear model cannot solve but a two-layer MLP can. */
function spirals(perClass: number, seed: number): { x: Float32Array; y: Float32Array } {
  const rng = new Random(seed);
  const n = perClass * 3;
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < perClass; i++) {
      const r = (i + 1) / perClass;
      const t = (c * 2 * Math.PI) / 3 + r * 3 + rng.normal() * 0.15;
      const k = c * perClass + i;
      x[2 * k] = r * Math.cos(t);
      x[2 * k + 1] = r * Math.sin(t);
      y[k] = c;
    }
  }
  return { x, y };
}

/** Kaiming-uniform-like initial weights, drawn on the host so both backends start identically. */
function init(shape: number[], fanIn: number, backend: w.Backend, rng: Random): w.Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  const data = Float32Array.from({ length: shape[0] * (shape[1] ?? 1) }, () => (rng.uniform() * 2 - 1) * bound);
  return w.fromArray(data, shape, { backend, requiresGrad: true });
}

async function trainMlp(backend: w.Backend, steps: number): Promise<{ first: number; last: number }> {
  w.setBackend(backend);
  const { x, y } = spirals(32, 1);
  const inputs = w.fromArray(x, [96, 2]);
  const targets = w.fromArray(y, [96]);
  const rng = new Random(2);
  const hidden = 48;
  const w1 = init([2, hidden], 2, backend, rng);
  const b1 = init([hidden], 2, backend, rng);
  const w2 = init([hidden, 3], hidden, backend, rng);
  const b2 = init([3], hidden, backend, rng);
  const opt = new w.SGD([w1, b1, w2, b2], { lr: 0.5, momentum: 0.9 });
  const losses: w.Tensor[] = [];
  for (let i = 0; i < steps; i++) {
    const loss = w.tidy(() => {
      opt.zeroGrad();
      const h = w.relu(w.add(w.matmul(inputs, w1), b1));
      const logits = w.add(w.matmul(h, w2), b2);
      const l = w.crossEntropy(logits, targets);
      l.backward();
      opt.step();
      return l.detach();
    });
    if (i === 0 || i === steps - 1) losses.push(loss);
    else loss.dispose();
  }
  const [first, last] = await Promise.all(losses.map((l) => l.item()));
  return { first, last };
}

describe('a two-layer MLP learns a small synthetic problem', () => {
  let gpu: w.WebGpuBackend;
  beforeAll(async () => {
    gpu = await gpuBackend();
  });

  it('on WebGPU', async () => {
    const { first, last } = await trainMlp(gpu, 300);
    expect(first).toBeGreaterThan(0.9);
    expect(last).toBeLessThan(0.25);
  });

  it('on the CPU reference, reaching the same loss', async () => {
    const cpu = await trainMlp(cpuBackend(), 300);
    const onGpu = await trainMlp(gpu, 300);
    expect(cpu.last).toBeLessThan(0.25);
    // Same data, same initial weights, same updates: float32 rounding only.
    expect(Math.abs(cpu.last - onGpu.last)).toBeLessThan(0.05);
  });
});
