import { describe, expect, it } from 'vitest';
import { AllocationError, fromArray, SGD, Tensor } from '../../src/index.ts';
import { randomData, use } from '../helpers.ts';
import { faultyBackend } from './faulty_device.ts';

// An optimizer moves its parameters into one buffer at its first step. WebGPU says only later
// that a buffer could not be made: the parameters must then still have their values.

describe('an optimizer whose flat buffers run out of memory', () => {
  it('keeps every parameter’s values, reports the failure, and steps normally once memory is there', async () => {
    const fault = await faultyBackend();
    const gpu = fault.backend;
    use(gpu);
    // 300k floats: the flat buffers of these params round to 1.5 MiB, a size nothing else here has.
    const init = [randomData(300_000, 1), randomData(7, 2)];
    const grads = [randomData(300_000, 3), randomData(7, 4)];
    const params = init.map((d) => fromArray(d, [d.length], { requiresGrad: true }));
    const setGrads = () =>
      params.forEach((p, i) => {
        p.grad?.dispose();
        p.grad = Tensor.adopt(fromArray(grads[i], [grads[i].length]));
      });
    setGrads();
    // With dampening, a momentum buffer that did not start over would give p − lr·(1 − d)·g.
    const opt = new SGD(params, { lr: 0.1, momentum: 0.9, dampening: 0.5 });
    fault.failSizes.add(1.5 * 2 ** 20);
    opt.step();
    const failed = await params[1].toArray().then(
      () => null,
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(AllocationError);
    expect((failed as Error).message).toMatch(/^SGD \(flat (parameters|gradients|momentum_buffer)\)/);
    fault.failSizes.clear();
    await gpu.sync();
    for (const [i, p] of params.entries()) expect(Array.from(await p.toArray()), `param ${i} after the failed step`).toEqual(Array.from(init[i]));

    setGrads();
    opt.step();
    // The momentum buffer starts as the gradient: p − lr·g.
    for (const [i, p] of params.entries()) {
      const got = await p.toArray();
      const want = init[i].map((v, k) => Math.fround(v - Math.fround(0.1 * grads[i][k])));
      let worst = 0;
      got.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - want[k]))));
      expect(worst, `param ${i} after the step that worked`).toBeLessThan(1e-6);
    }
    opt.dispose();
    for (const p of params) p.dispose();
  });
});
