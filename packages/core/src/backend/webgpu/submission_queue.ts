/**
 * What the backend hands the device's queue (command buffers and buffer writes), in recording
 * order, with the possibility to hold everything behind a write whose data is not known yet.
 *
 * Synchronised batch norm needs the statistics of every replica before a replica can go on,
 * and those arrive from the host, asynchronously. Instead of making forward and backward
 * asynchronous, the replica keeps recording: the work after the missing write is finished into
 * command buffers and kept here, and submitted once `release` writes the data. Without holds
 * every entry goes to the queue at once, as before.
 */
export class SubmissionQueue {
  private readonly entries: Entry[] = [];

  constructor(
    private readonly queue: GPUQueue,
    /** Called for each command buffer actually submitted (counters). */
    private readonly onSubmit: () => void,
  ) {}

  /** Whether work is being held behind a pending write. */
  get holding(): boolean {
    return this.entries.length > 0;
  }

  submit(commands: GPUCommandBuffer): void {
    if (this.holding) this.entries.push({ kind: 'submit', commands });
    else this.submitNow(commands);
  }

  /** queue.writeBuffer at byte `offset`, after everything recorded before it. The data is copied when held. */
  write(buffer: GPUBuffer, data: Float32Array, offset = 0): void {
    if (this.holding) this.entries.push({ kind: 'write', write: { buffer, offset, data: data.slice() } });
    else this.writeNow({ buffer, offset, data });
  }

  /**
   * Holds everything recorded after this call until `release(hold, ...)` (in order: holds made
   * earlier release first, whatever order `release` is called in) or `abort`.
   */
  hold(): Hold {
    const hold: Hold = { state: 'waiting', writes: [], error: null };
    this.entries.push({ kind: 'hold', hold });
    return hold;
  }

  /** Writes `writes` where `hold` stands, then submits what it held (up to the next waiting hold). */
  release(hold: Hold, writes: BufferWrite[]): void {
    if (hold.state !== 'waiting') return;
    hold.state = 'released';
    hold.writes = writes;
    this.drain();
  }

  /**
   * Marks the end of a unit of work (a training step): an abort drops what was recorded from
   * its hold up to the first fence after it, and what comes after the fence still runs.
   */
  fence(): void {
    if (this.holding) this.entries.push({ kind: 'fence' });
  }

  /**
   * Drops `hold` and everything recorded after it up to the next fence, or to the end (it will
   * never run), and rejects whoever waits on that work with `error`. Work recorded before the
   * hold, or after the fence, still runs. Returns whether anyone was told (false: nobody was
   * waiting, the caller should report it otherwise).
   */
  abort(hold: Hold, error: Error): boolean {
    if (hold.state !== 'waiting') return true;
    let told = false;
    const at = this.entries.findIndex((e) => e.kind === 'hold' && e.hold === hold);
    const fence = this.entries.findIndex((e, i) => i > at && e.kind === 'fence');
    const dropped = at < 0 ? [] : this.entries.splice(at, (fence < 0 ? this.entries.length : fence) - at);
    for (const e of dropped) {
      if (e.kind === 'hold') {
        e.hold.state = 'aborted';
        e.hold.error = error;
      } else if (e.kind === 'notify') {
        e.reject(error);
        told = true;
      }
    }
    this.drain();
    return told;
  }

  /**
   * The device is gone: drops everything held (it can never run) and rejects whoever waits
   * on it with `error`.
   */
  failAll(error: Error): void {
    for (const e of this.entries.splice(0)) {
      if (e.kind === 'hold') {
        e.hold.state = 'aborted';
        e.hold.error = error;
      } else if (e.kind === 'notify') {
        e.reject(error);
      }
    }
  }

  /** Resolves once everything recorded so far has been submitted (at once when nothing is held). */
  submitted(): Promise<void> {
    if (!this.holding) return Promise.resolve();
    return new Promise((resolve, reject) => this.entries.push({ kind: 'notify', resolve, reject }));
  }

  private drain(): void {
    while (this.entries.length > 0) {
      const e = this.entries[0];
      if (e.kind === 'hold' && e.hold.state === 'waiting') return;
      this.entries.shift();
      if (e.kind === 'submit') this.submitNow(e.commands);
      else if (e.kind === 'write') this.writeNow(e.write);
      else if (e.kind === 'notify') e.resolve();
      else if (e.kind === 'fence') continue;
      else for (const w of e.hold.writes) this.writeNow(w);
    }
  }

  private writeNow(w: BufferWrite): void {
    this.queue.writeBuffer(w.buffer, w.offset ?? 0, w.data.buffer, w.data.byteOffset, w.data.byteLength);
  }

  private submitNow(commands: GPUCommandBuffer): void {
    this.queue.submit([commands]);
    this.onSubmit();
  }
}

/** Data for `buffer` from byte `offset` (absent: 0). */
export interface BufferWrite {
  readonly buffer: GPUBuffer;
  readonly offset?: number;
  readonly data: Float32Array;
}

/** A place in the queue where work waits for data from the host. */
export interface Hold {
  state: 'waiting' | 'released' | 'aborted';
  writes: BufferWrite[];
  /** Why it was aborted. */
  error: Error | null;
}

type Entry =
  | { kind: 'submit'; commands: GPUCommandBuffer }
  | { kind: 'write'; write: BufferWrite }
  | { kind: 'hold'; hold: Hold }
  | { kind: 'notify'; resolve: () => void; reject: (e: Error) => void }
  | { kind: 'fence' };
