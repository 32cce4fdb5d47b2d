import type { Backend, Storage } from '../backend/backend.ts';

/**
 * Shared ownership of one storage: views such as `reshape` share it, and the storage goes
 * back to the backend when the last tensor holding it is disposed.
 */
export class StorageHandle {
  private refs = 1;
  private current: Storage;

  constructor(
    readonly backend: Backend,
    storage: Storage,
  ) {
    this.current = storage;
  }

  get storage(): Storage {
    return this.current;
  }

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0) this.backend.free(this.current);
  }

  /** Points the handle at `storage` (the caller has put the values there) and returns the old storage, which the caller now owns. */
  swap(storage: Storage): Storage {
    if (storage.size !== this.current.size) throw new Error(`swap: storage of ${storage.size} floats for values of ${this.current.size}`);
    const old = this.current;
    this.current = storage;
    return old;
  }
}
