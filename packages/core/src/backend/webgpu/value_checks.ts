// Checks of values that only the GPU sees (class labels, gather indices): a check is one small
// dispatch that counts bad values into a shared buffer of counters; the counters travel back
// with the next read, so a step never waits for them. One counter per kind of check (op and
// limit), so that the error says what was wrong with the values of which op.
import type { Program } from './program.ts';
import { dispatch1d } from './program.ts';
import type { GpuStorage } from './gpu_storage.ts';

/** The error message for a bad value; `count` says how many values were bad. */
export type DescribeBad = (value: number, count: number) => string;

/** Counters kept; kinds of check beyond this many share the last one. */
export const CHECK_SLOTS = 64;
/** Bytes of the counter buffer: a count and a value per slot. */
export const CHECK_BYTES = CHECK_SLOTS * 8;

export class ValueChecks {
  private readonly slots = new Map<string, number>();
  private readonly describers: DescribeBad[] = [];
  private readonly seen = new Uint32Array(CHECK_SLOTS);
  /** Whether checks were recorded since the counters were last staged for reading. */
  dirty = false;

  /** The program that checks `n` values of `values` against [0, limit), counting into `flags`. */
  program(flags: GpuStorage, values: GpuStorage, n: number, limit: number, key: string, describe: DescribeBad): Program {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = Math.min(this.slots.size, CHECK_SLOTS - 1);
      this.slots.set(key, slot);
      this.describers[slot] =
        this.slots.size <= CHECK_SLOTS ? describe : (value) => `a value checked on the GPU was bad (${value}), in one of ${this.slots.size - CHECK_SLOTS + 1} kinds of check that share a counter`;
    }
    this.dirty = true;
    return {
      kernel: 'check_indices',
      uniforms: { n, limit, slot },
      bindings: { values, flags },
      dispatch: dispatch1d(n, 256),
    };
  }

  /** The error for counters read back (`words`: count, value bits per slot), or null when all is well. */
  inspect(words: Uint32Array): Error | null {
    let error: Error | null = null;
    for (let slot = 0; slot < CHECK_SLOTS; slot++) {
      const count = words[2 * slot];
      const fresh = (count - this.seen[slot]) >>> 0;
      if (fresh === 0) continue;
      this.seen[slot] = count;
      const value = new Float32Array(new Uint32Array([words[2 * slot + 1]]).buffer)[0];
      error ??= new Error(this.describers[slot]?.(value, fresh) ?? `a value checked on the GPU was bad (${value})`);
    }
    return error;
  }
}
