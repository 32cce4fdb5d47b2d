import type { Backend, Storage } from '../backend/backend.ts';

/**
 * Work recorded for a tensor whose values nobody has asked for yet (a normalization whose
 * output may only feed a fused ReLU). The handle runs it on first use, and drops it when the
 * tensor is disposed unread. It reads other handles; before one of them is written in place
 * (an optimizer step, a load), `inputWillChange` keeps the values it needs.
 */
export interface DeferredWork {
  /** Computes the values into fresh storage, which the handle then owns. */
  run(): Storage;
  /** Called once the values were computed, or are no longer wanted: lets go of the inputs. */
  release(): void;
  /** `input`, which this work reads, is about to be written in place: keep its current values. */
  inputWillChange(input: StorageHandle): void;
}

/**
 * Shared ownership of one storage: views such as `reshape` share it, and the storage goes
 * back to the backend when the last tensor holding it is disposed. The storage may be
 * deferred: computed by its DeferredWork the first time anyone asks for it.
 */
export class StorageHandle {
  private refs = 1;
  private current: Storage | null;
  private work: DeferredWork | null;
  /** Deferred work that reads this storage and must hear before it is written in place. */
  private readers: Set<DeferredWork> | null = null;

  constructor(
    readonly backend: Backend,
    storage: Storage | DeferredWork,
  ) {
    const deferred = isDeferred(storage);
    this.current = deferred ? null : storage;
    this.work = deferred ? storage : null;
  }

  /** The storage, computing deferred values first. */
  get storage(): Storage {
    if (this.work) {
      const work = this.work;
      this.current = work.run();
      this.work = null;
      work.release();
    }
    return this.current!;
  }

  /** The work that will compute this storage, while nobody has asked for it. */
  get deferred(): DeferredWork | null {
    return this.work;
  }

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs > 0) return;
    if (this.work) {
      this.work.release();
      this.work = null;
    } else if (this.current) this.backend.free(this.current);
  }

  /** Points the handle at `storage` (the caller has put the values there) and returns the old storage, which the caller now owns. */
  swap(storage: Storage): Storage {
    const old = this.storage;
    if (storage.size !== old.size) throw new Error(`swap: storage of ${storage.size} floats for values of ${old.size}`);
    this.current = storage;
    return old;
  }

  /** `work` reads this storage until it calls `removeReader`. */
  addReader(work: DeferredWork): void {
    (this.readers ??= new Set()).add(work);
  }

  removeReader(work: DeferredWork): void {
    this.readers?.delete(work);
  }

  /** Called before the storage is written in place: deferred work reading it keeps the values it needs. */
  beforeWrite(): void {
    if (!this.readers || this.readers.size === 0) return;
    for (const work of [...this.readers]) work.inputWillChange(this);
  }
}

function isDeferred(s: Storage | DeferredWork): s is DeferredWork {
  return typeof (s as Partial<DeferredWork>).run === 'function';
}
