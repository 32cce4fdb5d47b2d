// A lost device (driver reset, GPU process crash, device.destroy()) is one clear error from
// every later call, never a silent success, and init() gives a working device again.
import { describe, expect, it } from 'vitest';
import { acquireDevice, DeviceLostError, fromArray, init, matmul, mean, memory, SGD, square, sub, tidy, WebGpuBackend, type Tensor } from '../../src/index.ts';

const LOST = /^WebGPU device lost \(destroyed\): .+call init\(\) for a new device/;

/** One step of least squares on (x, y); returns the loss tensor (read later). */
function step(w: Tensor, x: Tensor, y: Tensor, sgd: SGD): Tensor {
  sgd.zeroGrad();
  return tidy(() => {
    const loss = mean(square(sub(matmul(x, w), y)));
    loss.backward();
    sgd.step();
    return loss;
  });
}

describe('device loss', () => {
  it('a device destroyed mid-training fails the read in flight and every later call with one message', async () => {
    const backend = new WebGpuBackend(await acquireDevice());
    const on = { backend };
    const w = fromArray([0.5, -1, 2], [3, 1], { ...on, requiresGrad: true });
    const x = fromArray([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3], on);
    const y = fromArray([1, 2, 3], [3, 1], on);
    const sgd = new SGD([w], { lr: 0.01 });
    let loss = step(w, x, y, sgd);
    expect(Number.isFinite(await loss.item())).toBe(true);
    loss.dispose();

    loss = step(w, x, y, sgd);
    const reading = loss.item();
    backend.device.destroy();
    const lost = await reading.then(
      () => null,
      (e: unknown) => e,
    );
    expect(lost).toBeInstanceOf(DeviceLostError);
    expect((lost as DeviceLostError).reason).toBe('destroyed');
    expect((lost as Error).message).toMatch(LOST);
    expect(backend.lostError).toBe(lost);
    await expect(backend.lost).resolves.toBe(lost);

    // Every later call says the same, at the call.
    expect(() => step(w, x, y, sgd)).toThrow(LOST);
    expect(() => fromArray([1, 2], [2], on)).toThrow(LOST);
    expect(() => backend.alloc(4)).toThrow(LOST);
    await expect(w.toArray()).rejects.toThrow(LOST);
    await expect(backend.sync()).rejects.toThrow(LOST);
    // Freeing is no error: there is nothing left to give back.
    expect(() => {
      for (const t of [loss, w, x, y]) t.dispose();
      sgd.dispose();
    }).not.toThrow();
    expect(memory(backend).liveBuffers).toBe(0);
  });

  it('a read aborted by the loss waits for a loss reported seconds later, and fails with it', async () => {
    // Firefox aborts the mapping at once but reports the loss only when its GPU process has
    // finished the queued work: the device here reports it 2.5 s late.
    const acquired = await acquireDevice();
    const lateLost = acquired.device.lost.then(async (info) => {
      await new Promise((resolve) => setTimeout(resolve, 2500));
      return info;
    });
    const device = new Proxy(acquired.device, {
      get(target, key) {
        if (key === 'lost') return lateLost;
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const backend = new WebGpuBackend({ ...acquired, device });
    const x = fromArray(new Float32Array(4096).fill(1.5), [64, 64], { backend });
    const reading = matmul(x, x).toArray();
    acquired.device.destroy();
    const error = await reading.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeviceLostError);
    expect((error as Error).message).toMatch(LOST);
  });

  it('a sync waiting on the device when it is destroyed rejects instead of resolving', async () => {
    const backend = new WebGpuBackend(await acquireDevice());
    const a = fromArray(new Float32Array(256 * 256).fill(0.5), [256, 256], { backend });
    for (let i = 0; i < 4; i++) matmul(a, a).dispose();
    const waiting = backend.sync();
    backend.device.destroy();
    await expect(waiting).rejects.toThrow(LOST);
  });

  it('init() after a loss gives a new device on which training goes on from saved weights', async () => {
    const first = (await init()) as WebGpuBackend;
    const w = fromArray([0.5, -1, 2], [3, 1], { requiresGrad: true });
    const x = fromArray([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3]);
    const y = fromArray([1, 2, 3], [3, 1]);
    const sgd = new SGD([w], { lr: 0.01 });
    const l0 = step(w, x, y, sgd);
    const start = await l0.item();
    const saved = await w.toArray();
    first.device.destroy();
    await expect(first.lost).resolves.toBeInstanceOf(DeviceLostError);
    for (const t of [l0, w, x, y]) t.dispose();
    sgd.dispose();

    const second = (await init()) as WebGpuBackend;
    expect(second).not.toBe(first);
    expect(second.lostError).toBeNull();
    const w2 = fromArray(saved, [3, 1], { requiresGrad: true });
    const x2 = fromArray([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3]);
    const y2 = fromArray([1, 2, 3], [3, 1]);
    const sgd2 = new SGD([w2], { lr: 0.01 });
    let last = start;
    for (let i = 0; i < 3; i++) {
      const l = step(w2, x2, y2, sgd2);
      last = await l.item();
      l.dispose();
    }
    expect(last).toBeLessThan(start);
    for (const t of [w2, x2, y2]) t.dispose();
    sgd2.dispose();
  });
});
