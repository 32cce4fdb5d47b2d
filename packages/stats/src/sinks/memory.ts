import type { StatsRecord, StatsSink } from '../record.ts';

/** Options of `memorySink`. */
export interface MemorySinkOptions {
  /** Records kept in `history`, newest last (default 1000); older ones are dropped. */
  capacity?: number;
}

/** Called with each record as it arrives. */
export type RecordListener = (record: StatsRecord) => void;

/**
 * Keeps the latest records in memory and tells subscribers about each new one: what a page
 * (the playground's statistics panels) draws from.
 */
export class MemorySink implements StatsSink {
  readonly capacity: number;
  private readonly records: StatsRecord[] = [];
  private readonly listeners = new Set<RecordListener>();

  constructor({ capacity = 1000 }: MemorySinkOptions = {}) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`memorySink: capacity must be a positive integer, got ${String(capacity)}`);
    this.capacity = capacity;
  }

  write(record: StatsRecord): void {
    this.records.push(record);
    if (this.records.length > this.capacity) this.records.splice(0, this.records.length - this.capacity);
    // A failing listener must not keep the others from hearing of the record.
    const errors: unknown[] = [];
    for (const listener of [...this.listeners]) {
      try {
        listener(record);
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0) throw errors[0];
  }

  /** Calls `listener` with every record from now on; returns a function that unsubscribes it. */
  subscribe(listener: RecordListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The kept records, oldest first (a copy). */
  get history(): StatsRecord[] {
    return [...this.records];
  }

  /** The newest record, or null before the first. */
  get latest(): StatsRecord | null {
    return this.records[this.records.length - 1] ?? null;
  }

  /** Forgets the kept records (subscribers stay). */
  clear(): void {
    this.records.length = 0;
  }
}

/** An in-memory stream of records with a bounded history (see `MemorySink`). */
export function memorySink(options: MemorySinkOptions = {}): MemorySink {
  return new MemorySink(options);
}
