// The metrics of a run as it goes: every K steps the step's loss (read by `fit`), the training
// accuracy over the last K steps (accumulated on the device, read without waiting) and the
// speed; per epoch the training and test figures. Browser-safe.
import type { Tensor } from '@welford/core';
import { Accuracy, type EpochResult, type Evaluation, type LossReading, type StepInfo } from '@welford/layers';

/** A line of metrics.jsonl every `logEvery` steps. */
export interface StepMetrics {
  kind: 'step';
  step: number;
  epoch: number;
  /** The loss of this step's batch. */
  loss: number;
  /** Top-1 (pixel) accuracy over the batches since the previous record; null with no targets. */
  accuracy: number | null;
  lr: number;
  /** Optimizer steps per second the device finished since the previous record. */
  stepsPerSecond: number;
  /** Seconds since training started. */
  elapsed: number;
}

/** What an evaluation on the test split gave. */
export interface TestMetrics {
  samples: number;
  loss: number;
  /** Top-1 accuracy (pixel accuracy for segmentation). */
  accuracy: number;
  /** Correct predictions (pixels for segmentation) out of `total`: exact, for comparisons. */
  correct: number;
  total: number;
  /** Segmentation: mean IoU over the classes present, and per class. */
  miou?: number;
  iou?: (number | null)[];
}

/** A line of metrics.jsonl per epoch. */
export interface EpochMetrics {
  kind: 'epoch';
  epoch: number;
  /** Steps of this epoch, and the total so far. */
  steps: number;
  step: number;
  train: { loss: number; accuracy: number | null; samples: number };
  test: TestMetrics;
  lr: number;
  elapsed: number;
}

export type MetricsRecord = StepMetrics | EpochMetrics;

/** The test metrics from `evaluate`'s result; `pixels` is how many targets one sample has. */
export function testMetrics(e: Evaluation, pixels: number): TestMetrics {
  const total = e.samples * pixels;
  const accuracy = e.accuracy ?? NaN;
  const out: TestMetrics = { samples: e.samples, loss: e.loss ?? NaN, accuracy, correct: Math.round(accuracy * total), total };
  if (e.miou !== undefined) {
    out.miou = e.miou;
    out.iou = e.iou;
  }
  return out;
}

/** Loss arrivals the speed is measured over. */
const SPEED_WINDOW = 4;

interface Pending {
  step: number;
  epoch: number;
  lr: number;
  elapsed: number;
  stepsPerSecond?: number;
  loss?: number;
  accuracy?: number | null;
}

/**
 * Joins, per logged step, the loss `fit` reads with the windowed accuracy read here, and emits
 * the records in step order. `update` runs in the loss function (inside the step's tidy).
 */
export class StepLog {
  /** The latest values read, for the progress line. */
  latestLoss: number | null = null;
  latestAccuracy: number | null = null;
  private window = new Accuracy();
  private readonly pending: Pending[] = [];
  private readonly reads: Promise<void>[] = [];
  private readonly started = performance.now();
  /** (step, time) of the latest loss arrivals, oldest first, starting from (0, start). */
  private arrivals: [number, number][] = [[0, this.started]];
  private rate = 0;

  constructor(
    private readonly logEvery: number,
    private readonly emit: (record: StepMetrics) => void,
  ) {}

  /** Seconds since the log was made (training started). */
  get elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }

  /** Steps per second the device finished over the last few loss reads (0 before the first). */
  get stepsPerSecond(): number {
    return this.rate;
  }

  /** Counts a batch's predictions towards the current window (device work only). */
  update(output: Tensor, targets: Tensor): void {
    this.window.update(output, targets);
  }

  /** After each optimizer step: on a logged step, closes the window and starts reading it. */
  onStep(info: StepInfo): void {
    if (info.step % this.logEvery !== 0) return;
    const entry: Pending = { step: info.step, epoch: info.epoch, lr: info.lr, elapsed: this.elapsed };
    this.pending.push(entry);
    const closed = this.window;
    this.window = new Accuracy();
    if (closed.count === 0) {
      entry.accuracy = null;
      closed.dispose();
      return;
    }
    this.reads.push(
      closed
        .compute()
        .then((a) => {
          entry.accuracy = a;
          this.latestAccuracy = a;
          this.flushReady();
        })
        .finally(() => closed.dispose()),
    );
  }

  /**
   * A loss read back by `fit`. It arrives when the device has finished that step, so the speed
   * is measured between arrivals: the host may run a few steps ahead of the device.
   */
  onLoss(reading: LossReading): void {
    // Reads arrive in pairs when the device catches up: measure over the last few.
    const now = performance.now();
    this.arrivals.push([reading.step, now]);
    if (this.arrivals.length > SPEED_WINDOW + 1) this.arrivals.shift();
    const [step0, time0] = this.arrivals[0];
    this.rate = ((reading.step - step0) * 1000) / Math.max(now - time0, 1e-3);
    this.latestLoss = reading.loss;
    const entry = this.pending.find((p) => p.step === reading.step);
    if (entry) {
      entry.loss = reading.loss;
      entry.stepsPerSecond = this.rate;
    }
    this.flushReady();
  }

  /** Waits for the accuracy reads in flight and emits what is complete. */
  async drain(): Promise<void> {
    await Promise.allSettled(this.reads);
    this.flushReady();
  }

  dispose(): void {
    this.window.dispose();
  }

  private flushReady(): void {
    while (this.pending.length > 0 && this.pending[0].loss !== undefined && this.pending[0].accuracy !== undefined) {
      const p = this.pending.shift()!;
      this.emit({ kind: 'step', step: p.step, epoch: p.epoch, loss: p.loss!, accuracy: p.accuracy!, lr: p.lr, stepsPerSecond: p.stepsPerSecond ?? 0, elapsed: p.elapsed });
    }
  }
}

/** The epoch record from `fit`'s epoch result and the test evaluation. */
export function epochMetrics(result: EpochResult, step: number, test: TestMetrics, elapsed: number): EpochMetrics {
  return { kind: 'epoch', epoch: result.epoch, steps: result.steps, step, train: { loss: result.loss, accuracy: result.accuracy, samples: result.samples }, test, lr: result.lr, elapsed };
}
