import { beforeAll, describe, expect, it } from 'vitest';
import { assign, fromArray, manualSeed, memory, Random, SGD, StepLR, type Tensor, type WebGpuBackend } from '@welford/core';
import { Conv2d, evaluate, fit, Linear, NonFiniteLossError, ReLU, Sequential, type StepInfo, type TrainingBatch } from '../src/index.ts';
import { expectClose, useGpu } from './helpers.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await useGpu();
});

const FEATURES = 4;
const CLASSES = 3;

/** Three Gaussian blobs in 4-D (class c centred at 1.5 on axis c): linearly separable. */
function blobs(n: number, seed: number): { x: Float32Array; y: Float32Array } {
  const rng = new Random(seed);
  const x = new Float32Array(n * FEATURES);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % CLASSES;
    y[i] = c;
    for (let f = 0; f < FEATURES; f++) x[i * FEATURES + f] = (f === c ? 1.5 : 0) + rng.normal() * 0.4;
  }
  return { x, y };
}

/** Fresh batch tensors of `size` samples each (fit disposes them). `poison` puts a NaN into that batch. */
function batchesOf(data: { x: Float32Array; y: Float32Array }, size: number, poison = -1): TrainingBatch[] {
  const out: TrainingBatch[] = [];
  for (let i = 0; i * size < data.y.length; i++) {
    const x = data.x.slice(i * size * FEATURES, (i + 1) * size * FEATURES);
    if (i === poison) x[1] = NaN;
    const y = data.y.slice(i * size, (i + 1) * size);
    out.push({ x: fromArray(x, [y.length, FEATURES]), y: fromArray(y, [y.length]) });
  }
  return out;
}

/** Counts the backend's readbacks while `fn` runs; `now()` gives the count so far. */
async function countReads<T>(fn: (now: () => number) => Promise<T>): Promise<{ value: T; reads: number }> {
  const read = gpu.read.bind(gpu);
  let reads = 0;
  gpu.read = (s) => {
    reads++;
    return read(s);
  };
  try {
    return { value: await fn(() => reads), reads };
  } finally {
    gpu.read = read;
  }
}

async function valuesOf(ts: readonly Tensor[]): Promise<Float32Array[]> {
  return Promise.all(ts.map((t) => t.toArray()));
}

const data = blobs(48, 1);

describe('fit', () => {
  it('trains a linear classifier on separable blobs: loss falls, accuracy rises, memory stays flat', async () => {
    manualSeed(1);
    const model = new Linear(FEATURES, CLASSES);
    const optimizer = new SGD(model.parameters(), { lr: 0.5 });
    const live = memory().liveBuffers;
    const history = await fit(model, { train: () => batchesOf(data, 8), epochs: 5, optimizer });
    expect(history.steps).toBe(30);
    expect(history.epochs.map((e) => e.steps)).toEqual([6, 6, 6, 6, 6]);
    const [first, last] = [history.epochs[0], history.epochs[4]];
    expect(first.samples).toBe(48);
    expect(last.loss).toBeLessThan(first.loss * 0.5);
    expect(last.accuracy!).toBeGreaterThan(first.accuracy!);
    expect(last.accuracy!).toBeGreaterThanOrEqual(0.95);
    // readEvery defaults to 10: steps 10, 20 and 30 were read.
    expect(history.losses.map((r) => r.step)).toEqual([10, 20, 30]);
    expect(history.losses.every((r) => Number.isFinite(r.loss))).toBe(true);
    expect(model.training).toBe(true);
    // Batches, intermediates and metric sums are freed; only the last gradients remain, and the
    // optimizer's state (the flat buffers its updates use), which its dispose frees.
    model.zeroGrad();
    optimizer.dispose();
    expect(memory().liveBuffers).toBe(live);
    model.dispose();
  });

  it('reads nothing during a step except the loss every readEvery steps, and the epoch sums once', async () => {
    manualSeed(2);
    const model = new Linear(FEATURES, CLASSES);
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    const seen: [number, number][] = [];
    const { value: history, reads } = await countReads((now) =>
      fit(model, {
        train: () => batchesOf(data, 7),
        epochs: 1,
        optimizer,
        readEvery: 3,
        onStep: (info) => seen.push([info.step, now()]),
      }),
    );
    // Reads are started in steps 3 and 6 (not awaited there); one more at the epoch's end.
    expect(seen).toEqual([[1, 0], [2, 0], [3, 1], [4, 1], [5, 1], [6, 2], [7, 2]]);
    expect(reads).toBe(3);
    expect(history.losses.map((r) => r.step)).toEqual([3, 6]);
    model.dispose();
  });

  it('steps the schedule per batch or per epoch, as asked', async () => {
    for (const [schedulerStep, lrs, final] of [
      ['batch', [0.1, 0.05, 0.025, 0.0125, 0.00625, 0.003125], 0.0015625],
      ['epoch', [0.1, 0.1, 0.1, 0.05, 0.05, 0.05], 0.025],
    ] as const) {
      manualSeed(3);
      const model = new Linear(FEATURES, CLASSES);
      const optimizer = new SGD(model.parameters(), { lr: 0.1 });
      const scheduler = new StepLR(optimizer, { stepSize: 1, gamma: 0.5 });
      const used: number[] = [];
      const history = await fit(model, { train: () => batchesOf(data, 16), epochs: 2, optimizer, scheduler, schedulerStep, onStep: (i: StepInfo) => used.push(i.lr) });
      expectClose(used, lrs, 1e-12, 0, `${schedulerStep}: lr of each step`);
      expect(optimizer.lr, schedulerStep).toBeCloseTo(final, 12);
      expect(scheduler.lastEpoch).toBe(schedulerStep === 'batch' ? 6 : 2);
      expect(history.epochs.map((e) => e.lr)).toEqual([lrs[2], lrs[5]]);
      model.dispose();
    }
  });

  it('clips the gradient norm before the step: one SGD step moves the parameters by at most lr·maxNorm', async () => {
    const moved = async (clip: number | undefined): Promise<number> => {
      manualSeed(4);
      const model = new Linear(FEATURES, CLASSES);
      const before = await valuesOf(model.parameters());
      const optimizer = new SGD(model.parameters(), { lr: 1 });
      await fit(model, { train: () => batchesOf(data, 48), epochs: 1, optimizer, clipGradNorm: clip });
      const after = await valuesOf(model.parameters());
      model.dispose();
      return Math.sqrt(after.reduce((s, a, i) => s + a.reduce((t, v, j) => t + (v - before[i][j]) ** 2, 0), 0));
    };
    expect(await moved(undefined)).toBeGreaterThan(0.05);
    const clipped = await moved(0.01);
    expect(clipped).toBeLessThanOrEqual(0.01 * (1 + 1e-4));
    expect(clipped).toBeGreaterThan(0.0099);
  });

  it('is repeatable: the same seed gives the same losses', async () => {
    const run = async (): Promise<number[]> => {
      manualSeed(5);
      const model = new Sequential(new Linear(FEATURES, 6), new ReLU(), new Linear(6, CLASSES));
      const optimizer = new SGD(model.parameters(), { lr: 0.2, momentum: 0.9 });
      const history = await fit(model, { train: () => batchesOf(data, 12), epochs: 2, optimizer, readEvery: 1 });
      optimizer.dispose();
      model.dispose();
      return history.losses.map((r) => r.loss);
    };
    const a = await run();
    expect(a.length).toBe(8);
    expect(await run()).toEqual(a);
  });

  it('a NaN loss stops training with NonFiniteLossError naming the step, after onNonFinite', async () => {
    manualSeed(6);
    const model = new Linear(FEATURES, CLASSES);
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    const calls: number[] = [];
    let stepsTaken = 0;
    const error = await fit(model, {
      train: (epoch) => batchesOf(data, 8, epoch === 0 ? 2 : -1),
      epochs: 2,
      optimizer,
      readEvery: 1,
      onStep: () => stepsTaken++,
      onNonFinite: (info) => {
        calls.push(info.step);
        return 'first non-finite statistics in "fc"';
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteLossError);
    const e = error as NonFiniteLossError;
    expect(e.step).toBe(3);
    expect(e.epoch).toBe(0);
    expect(e.loss).toBeNaN();
    expect(e.message).toMatch(/^fit: the loss at step 3 \(epoch 0\) is NaN: first non-finite statistics in "fc"$/);
    expect(calls).toEqual([3]);
    // Reads are asynchronous: training may go on a little past the bad step, not to the end.
    expect(stepsTaken).toBeLessThan(12);
    model.dispose();
  });

  it('without per-step reads, a NaN shows in the epoch mean, naming the epoch’s steps', async () => {
    manualSeed(7);
    const model = new Linear(FEATURES, CLASSES);
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    await expect(fit(model, { train: () => batchesOf(data, 8, 4), epochs: 1, optimizer, readEvery: 0 })).rejects.toThrow(
      /fit: the mean loss of epoch 0 \(steps 1 to 6\) is NaN; read the loss more often \(readEvery\) to find the step/,
    );
    model.dispose();
  });

  it('stops before the next step when the signal aborts, returning the partial history', async () => {
    manualSeed(8);
    const model = new Linear(FEATURES, CLASSES);
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    const controller = new AbortController();
    const batches = batchesOf(data, 8);
    const history = await fit(model, {
      train: () => batches,
      epochs: 3,
      optimizer,
      signal: controller.signal,
      onStep: (i) => {
        if (i.step === 2) controller.abort();
      },
    });
    expect(history.aborted).toBe(true);
    expect(history.steps).toBe(2);
    expect(history.epochs.map((e) => [e.steps, e.samples])).toEqual([[2, 16]]);
    // No batch is taken after the abort: the rest stay the caller's.
    expect(batches.map((b) => b.x.isDisposed)).toEqual([true, true, false, false, false, false]);
    for (const b of batches.slice(2)) [b.x, b.y!].forEach((t) => t.dispose());
    model.dispose();
  });

  it('owns its batches unless told otherwise', async () => {
    manualSeed(9);
    const model = new Linear(FEATURES, CLASSES);
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    const batches = batchesOf(data, 16);
    // The same tensors for two epochs: the caller keeps them.
    await fit(model, { train: batches, epochs: 2, optimizer, disposeBatches: false });
    expect(batches.every((b) => !b.x.isDisposed && !b.y!.isDisposed)).toBe(true);
    await fit(model, { train: batches, epochs: 1, optimizer });
    expect(batches.every((b) => b.x.isDisposed && b.y!.isDisposed)).toBe(true);
    model.dispose();
  });

  it('rejects bad options and an iterator that runs out after one epoch', async () => {
    const model = new Linear(FEATURES, CLASSES);
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    const train = () => batchesOf(data, 48);
    await expect(fit(model, { train, epochs: 0, optimizer })).rejects.toThrow(/fit: epochs must be a positive integer, got 0/);
    await expect(fit(model, { train, epochs: 1, optimizer, readEvery: -1 })).rejects.toThrow(/fit: readEvery must be an integer >= 0, got -1/);
    await expect(fit(model, { train, epochs: 1, optimizer, clipGradNorm: -2 })).rejects.toThrow(/fit: clipGradNorm must be a finite number >= 0, got -2/);
    await expect(fit(model, { train, epochs: 1, optimizer: {} as SGD })).rejects.toThrow(/fit: optimizer must be an Optimizer/);
    const once = (function* () {
      yield* batchesOf(data, 48);
    })();
    await expect(fit(model, { train: once, epochs: 2, optimizer })).rejects.toThrow(/fit: epoch 1 got no batches/);
    model.dispose();
  });
});

describe('evaluate', () => {
  it('gives the loss and accuracy computed on the host, in eval mode, restoring every module’s mode', async () => {
    const model = new Sequential(new Linear(FEATURES, CLASSES));
    const fc = model.children()[0] as Linear;
    const rng = new Random(10);
    const weight = Float32Array.from({ length: CLASSES * FEATURES }, () => rng.normal());
    const bias = Float32Array.from({ length: CLASSES }, () => rng.normal() * 0.1);
    assign(fc.getParameter('weight')!, weight);
    assign(fc.getParameter('bias')!, bias);
    // Host reference: logits = x·Wᵀ + b, mean cross-entropy and top-1 accuracy.
    let loss = 0;
    let hits = 0;
    for (let i = 0; i < data.y.length; i++) {
      const z = Array.from({ length: CLASSES }, (_, c) => bias[c] + Array.from({ length: FEATURES }, (_, f) => data.x[i * FEATURES + f] * weight[c * FEATURES + f]).reduce((a, b) => a + b, 0));
      const m = Math.max(...z);
      loss += m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0)) - z[data.y[i]];
      if (z.indexOf(m) === data.y[i]) hits++;
    }
    // Mixed modes before: the container trains, its child is frozen in eval mode.
    model.train();
    fc.eval();
    const modes: boolean[] = [];
    model.registerForwardPreHook((m) => void modes.push(m.training, fc.training));
    const { value: result, reads } = await countReads(() => evaluate(model, batchesOf(data, 10)));
    expect(reads).toBe(1);
    expect(result.samples).toBe(48);
    expectClose([result.loss!], [loss / data.y.length], 1e-5, 1e-5, 'loss');
    expect(result.accuracy).toBeCloseTo(hits / data.y.length, 6);
    expect(modes.every((m) => m === false)).toBe(true);
    expect([model.training, fc.training]).toEqual([true, false]);
    await expect(evaluate(model, batchesOf(data, 48), { metrics: ['loss', 'f1' as 'loss'] })).rejects.toThrow(/evaluate: unknown metric "f1"/);
    model.dispose();
  });
});

describe('segmentation', () => {
  /** 1-channel 6×6 images; the mask is 1 where the pixel is above 0.5. */
  function segBatches(count: number, seed: number): TrainingBatch[] {
    const rng = new Random(seed);
    return Array.from({ length: count }, () => {
      const x = Float32Array.from({ length: 4 * 36 }, () => rng.uniform());
      const mask = x.map((v) => (v > 0.5 ? 1 : 0));
      return { x: fromArray(x, [4, 1, 6, 6]), mask: fromArray(mask, [4, 6, 6]) };
    });
  }

  it('fit trains a convolution on masks with per-pixel cross-entropy; evaluate reports mIoU', async () => {
    manualSeed(11);
    const model = new Conv2d(1, 2, 3, { padding: 1 });
    const optimizer = new SGD(model.parameters(), { lr: 2, momentum: 0.9 });
    const history = await fit(model, { train: (e) => segBatches(4, 100 + e), epochs: 8, optimizer });
    const [first, last] = [history.epochs[0], history.epochs[7]];
    expect(last.loss).toBeLessThan(first.loss * 0.5);
    expect(last.accuracy!).toBeGreaterThan(0.9);
    const result = await evaluate(model, segBatches(2, 7), { metrics: ['loss', 'accuracy', 'miou'] });
    expect(result.samples).toBe(8);
    expect(result.iou!.length).toBe(2);
    expect(result.miou!).toBeCloseTo((result.iou![0]! + result.iou![1]!) / 2, 12);
    expect(result.miou!).toBeGreaterThan(0.85);
    expect(result.accuracy!).toBeGreaterThan(0.9);
    model.dispose();
  });
});
