// backward() on a loss whose graph a tidy has freed must refuse, never train nothing silently.
import { describe, expect, it } from 'vitest';
import { crossEntropy, fromArray, matmul, mean, memory, SGD, square, sub, tidy } from '../../src/index.ts';
import { gpuBackend, use } from '../helpers.ts';

describe('backward after tidy', () => {
  it('refuses a loss made in a tidy (mean squared error), attaching no gradient anywhere', async () => {
    use(await gpuBackend());
    const w = fromArray([0.5, -1, 2], [3, 1], { requiresGrad: true });
    const x = fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = fromArray([1, 2], [2, 1]);
    const loss = tidy(() => mean(square(sub(matmul(x, w), y))));
    const before = memory().liveBuffers;
    expect(() => loss.backward()).toThrow(/backward: the intermediate tensor #\d+ of shape \[2, 1\] \(made by square\), an input of mean, was disposed before backward\(\).*Call backward\(\) inside the tidy that made the loss/);
    expect(w.grad).toBeNull();
    // Nothing was left behind by the refused call.
    expect(memory().liveBuffers).toBe(before);
    for (const t of [w, x, y, loss]) t.dispose();
  });

  it('refuses it with cross-entropy too, and the same loop inside the tidy trains', async () => {
    use(await gpuBackend());
    const w = fromArray([0.1, -0.2, 0.3, 0.4, -0.5, 0.6], [3, 2], { requiresGrad: true });
    const x = fromArray([1, 0, 2, 0, 1, -1, 3, 1, 0], [3, 3]);
    const labels = fromArray([0, 1, 1]);
    const outside = tidy(() => crossEntropy(matmul(x, w), labels));
    expect(() => outside.backward()).toThrow(/disposed before backward\(\)/);
    expect(w.grad).toBeNull();
    outside.dispose();

    const sgd = new SGD([w], { lr: 0.5 });
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) {
      sgd.zeroGrad();
      const loss = tidy(() => {
        const l = crossEntropy(matmul(x, w), labels);
        l.backward();
        return l;
      });
      sgd.step();
      losses.push(await loss.item());
      loss.dispose();
    }
    expect(losses[4]).toBeLessThan(losses[0] - 0.05);
    sgd.dispose();
    for (const t of [w, x, labels]) t.dispose();
  });

  it('refuses a disposed leaf and a disposed loss', async () => {
    use(await gpuBackend());
    const w = fromArray([1, 2], [2], { requiresGrad: true });
    const loss = mean(square(w));
    w.dispose();
    expect(() => loss.backward()).toThrow(/the leaf tensor #\d+ of shape \[2\], an input of square, was disposed before backward\(\)/);
    loss.dispose();
    expect(() => loss.backward()).toThrow(/backward: tensor #\d+ of shape \[\] was disposed; call backward\(\) before disposing it/);
  });
});
