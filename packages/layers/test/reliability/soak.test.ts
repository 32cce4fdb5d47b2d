// A long run keeps memory flat: after warm-up, training a small CNN creates no buffer and
// holds the same live buffers at every step boundary. WELFORD_SOAK_STEPS sets the length
// (2000 by default; CI may run fewer).
import { describe, expect, it } from 'vitest';
import { getBackend, init, memory, SGD, type MemoryReport } from '@welford/core';
import { fit } from '../../src/index.ts';
import { blobBatches, tinyCnn } from './tiny_training.ts';

const STEPS = Number(process.env.WELFORD_SOAK_STEPS ?? 2000);
const WARMUP = 50;
const EVERY = 10;

describe('soak', () => {
  it(`${STEPS} training steps of a small CNN: live and created buffers flat after warm-up, the loss falls`, async () => {
    expect(Number.isInteger(STEPS) && STEPS > WARMUP * 2, `WELFORD_SOAK_STEPS must be an integer above ${WARMUP * 2}`).toBe(true);
    await init();
    // A loss read still in flight holds its loss tensor; how many are depends on how far the
    // device lags the host (one or two: fit starts a read every EVERY steps and keeps two in
    // flight at most), so each step is compared with the first step that had as many in flight.
    const backend = getBackend();
    const read = backend.read.bind(backend);
    let inFlight = 0;
    backend.read = (storage) => {
      inFlight++;
      return read(storage).finally(() => inFlight--);
    };
    const before = memory();
    const model = tinyCnn();
    const optimizer = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
    const samples: { step: number; m: MemoryReport; reads: number }[] = [];
    const history = await fit(model, {
      train: blobBatches(STEPS, 16, 7),
      epochs: 1,
      optimizer,
      readEvery: EVERY,
      onStep: ({ step }) => {
        if (step >= WARMUP && step % EVERY === 0) samples.push({ step, m: memory(), reads: inFlight });
      },
    });
    backend.read = read;
    expect(history.steps).toBe(STEPS);
    const made = (m: MemoryReport): number => m.createdBuffers - m.readbackBuffers;
    for (const { step, m, reads } of samples) {
      const first = samples.find((s) => s.reads === reads)!.m;
      expect(made(m), `storage buffers created by step ${step}`).toBe(made(samples[0].m));
      expect(m.liveBuffers, `live buffers at step ${step} (${reads} reads in flight)`).toBe(first.liveBuffers);
      expect(m.liveBytes, `live bytes at step ${step} (${reads} reads in flight)`).toBe(first.liveBytes);
      expect(m.pooledBytes, `pooled bytes at step ${step} (${reads} reads in flight)`).toBe(first.pooledBytes);
    }
    const losses = history.losses.map((r) => r.loss);
    const head = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const tail = losses.slice(-5).reduce((a, b) => a + b) / 5;
    expect(tail).toBeLessThan(head * 0.5);
    // Readbacks: fit keeps at most two loss reads in flight, each with its check counters.
    expect(memory().readbackBuffers - before.readbackBuffers).toBeLessThanOrEqual(4);
    model.dispose();
    optimizer.dispose();
    expect(memory().liveBuffers).toBe(before.liveBuffers);
  });
});
