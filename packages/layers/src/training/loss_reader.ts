import type { Tensor } from '@welford/core';

/** A loss value read back from the device. */
export interface LossReading {
  /** The optimizer step (1 is the first step of `fit`). */
  step: number;
  /** The epoch of that step (0 is the first). */
  epoch: number;
  loss: number;
}

interface Pending {
  step: number;
  done: Promise<void>;
}

/**
 * Reads step losses back without making a step wait: `start` issues the copy and returns;
 * values are collected when they arrive. At most `maxInFlight` reads are outstanding: `room()`
 * waits for the oldest, which bounds how far the host runs ahead of the device.
 */
export class LossReader {
  readonly readings: LossReading[] = [];
  private readonly pending: Pending[] = [];
  private firstBad: LossReading | null = null;
  private failure: unknown = null;

  constructor(
    private readonly onLoss: ((reading: LossReading) => void) | undefined,
    private readonly maxInFlight = 2,
  ) {}

  /** Waits (if needed) until another read may start. */
  async room(): Promise<void> {
    while (this.pending.length >= this.maxInFlight) await this.pending[0].done;
  }

  /** Starts reading `loss` (a one-element tensor that this reader now owns and disposes). */
  start(step: number, epoch: number, loss: Tensor): void {
    const entry: Pending = { step, done: Promise.resolve() };
    entry.done = loss
      .toArray()
      .then((values) => this.collect({ step, epoch, loss: values[0] }))
      .catch((e: unknown) => {
        // A failed read or a throwing onLoss: reported by the next drain() or firstNonFinite().
        this.failure ??= e;
      })
      .finally(() => {
        loss.dispose();
        this.pending.splice(this.pending.indexOf(entry), 1);
      });
    this.pending.push(entry);
  }

  /** Resolves when every read started so far has arrived. */
  async drain(): Promise<void> {
    while (this.pending.length > 0) await this.pending[0].done;
    if (this.failure !== null) throw this.failure;
  }

  /**
   * The earliest non-finite reading, or null. Once one has arrived, the reads started before it
   * are awaited first, so the step reported is the first non-finite one that was read.
   */
  async firstNonFinite(): Promise<LossReading | null> {
    if (this.failure !== null) throw this.failure;
    if (this.firstBad === null) return null;
    const bad = this.firstBad;
    await Promise.all(this.pending.filter((p) => p.step < bad.step).map((p) => p.done));
    return this.firstBad;
  }

  private collect(reading: LossReading): void {
    // Reads arrive in order in practice; keep the list sorted by step regardless.
    let at = this.readings.length;
    while (at > 0 && this.readings[at - 1].step > reading.step) at--;
    this.readings.splice(at, 0, reading);
    if (!Number.isFinite(reading.loss) && (this.firstBad === null || reading.step < this.firstBad.step)) this.firstBad = reading;
    this.onLoss?.(reading);
  }
}
