import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { toJsonLine } from '../json_lines.ts';
import type { StatsRecord, StatsSink } from '../record.ts';

/** Options of `jsonLinesSink`. */
export interface JsonLinesSinkOptions {
  /** Empty the file when the sink is made (default false: append to what is there). */
  truncate?: boolean;
  /**
   * Called as soon as a write fails, with the error naming the file (a run can stop then, rather
   * than learn of it at its end); `flush()` rejects with the first failure as well.
   */
  onError?: (error: Error) => void;
}

/**
 * Appends each record to a file as one line of JSON (`toJsonLine`: non-finite numbers as the
 * strings "NaN", "Infinity", "-Infinity"; read lines back with `parseJsonLine`). Writes happen in
 * record order, one after another; `flush()` resolves when all are on disk. Creates the
 * file's directory.
 */
export class JsonLinesSink implements StatsSink {
  readonly path: string;
  private chain: Promise<void>;
  private failure: unknown = null;
  private readonly onError: ((error: Error) => void) | undefined;

  constructor(path: string, { truncate = false, onError }: JsonLinesSinkOptions = {}) {
    this.onError = onError;
    if (typeof path !== 'string' || path === '') throw new Error(`jsonLinesSink: expected a file path, got ${JSON.stringify(path)}`);
    this.path = path;
    this.chain = this.guard(mkdir(dirname(path), { recursive: true }).then(() => (truncate ? writeFile(path, '') : undefined)));
  }

  write(record: StatsRecord): void {
    const line = `${toJsonLine(record)}\n`;
    this.chain = this.chain.then(() => this.guard(appendFile(this.path, line)));
  }

  /** Resolves when every line written so far is in the file; rejects with the first write error. */
  async flush(): Promise<void> {
    await this.chain;
    if (this.failure !== null) {
      const e = this.failure;
      this.failure = null;
      throw e instanceof Error ? e : new Error(String(e));
    }
  }

  private guard(p: Promise<unknown>): Promise<void> {
    return p.then(
      () => undefined,
      (e: unknown) => {
        const error = e instanceof Error ? e : new Error(String(e));
        if (!error.message.includes(this.path)) error.message = `${this.path}: ${error.message}`;
        this.failure ??= error;
        this.onError?.(error);
      },
    );
  }
}

/** A sink appending one JSON line per record to `path` (Node only: `@welford/stats/node`). */
export function jsonLinesSink(path: string, options: JsonLinesSinkOptions = {}): JsonLinesSink {
  return new JsonLinesSink(path, options);
}
