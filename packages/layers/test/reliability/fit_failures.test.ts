// fit when the device is lost mid-training, or a batch has a bad label: it stops with one
// clear error, leaves no unhandled rejection and no live buffer behind, and training goes on
// afterwards (from saved weights on a new device).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireDevice, DeviceLostError, getBackend, init, memory, setBackend, SGD, WebGpuBackend } from '@welford/core';
import { fit, loadSafetensors, saveSafetensors } from '../../src/index.ts';
import { blobBatches, tinyCnn } from './tiny_training.ts';

let unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => void unhandled.push(e);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

/**
 * Waits for the reads fit left in flight (they free their tensors when they land), so that an
 * unhandled rejection or a leaked buffer would show.
 */
async function settle(): Promise<void> {
  await getBackend()
    .sync()
    .catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('fit and failures', () => {
  it('a device lost mid-training stops fit with DeviceLostError; the saved weights train on a new device', async () => {
    const backend = setBackend(new WebGpuBackend(await acquireDevice())) as WebGpuBackend;
    const model = tinyCnn();
    const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    // A checkpoint taken before the loss, as a run or the playground keeps one.
    const saved = await saveSafetensors(model);
    let steps = 0;
    const run = fit(model, {
      train: blobBatches(40, 8, 1),
      epochs: 1,
      optimizer,
      readEvery: 2,
      onStep: (info) => {
        steps = info.step;
        if (info.step === 6) backend.device.destroy();
      },
    });
    const error = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeviceLostError);
    expect((error as Error).message).toMatch(/^WebGPU device lost \(destroyed\)/);
    expect(steps).toBeGreaterThanOrEqual(6);
    expect(steps).toBeLessThan(12);
    model.dispose();
    optimizer.dispose();
    await settle();
    expect(unhandled).toEqual([]);
    expect(memory(backend).liveBuffers).toBe(0);

    // A new device; the model rebuilt, weights from a checkpoint, training goes on.
    await init();
    const again = tinyCnn(2);
    loadSafetensors(again, saved);
    expect(await saveSafetensors(again)).toEqual(saved);
    const sgd = new SGD(again.parameters(), { lr: 0.1, momentum: 0.9 });
    const history = await fit(again, { train: blobBatches(12, 8, 2), epochs: 1, optimizer: sgd, readEvery: 1 });
    expect(history.steps).toBe(12);
    expect(history.losses.every((r) => Number.isFinite(r.loss))).toBe(true);
    again.dispose();
    sgd.dispose();
    await settle();
    expect(unhandled).toEqual([]);
  });

  it('a bad label stops fit at the next loss it reads, with the message the CPU reference gives', async () => {
    await init();
    const live = memory().liveBuffers;
    const model = tinyCnn();
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    let steps = 0;
    await expect(
      fit(model, { train: blobBatches(20, 8, 1, 5), epochs: 1, optimizer, readEvery: 4, onStep: (i) => void (steps = i.step) }),
    ).rejects.toThrow(/^crossEntropy: target 4 is not a class index \(expected an integer in \[0, 3\]\)\n\(found on the GPU after the call: 1 bad value since the previous read\)$/);
    // Batch 5 is step 6. The read of step 8's loss carries the check's counters; fit keeps two
    // reads in flight, so it learns of it by step 16 at the latest, without waiting per step.
    expect(steps).toBeGreaterThanOrEqual(6);
    expect(steps).toBeLessThanOrEqual(16);
    model.dispose();
    optimizer.dispose();
    await settle();
    expect(unhandled).toEqual([]);
    expect(memory().liveBuffers).toBe(live);
  });
});
