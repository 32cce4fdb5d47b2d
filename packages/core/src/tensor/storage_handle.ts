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

  /**
   * Moves the values into `storage` (as large, on the same backend) and frees the old storage:
   * every tensor sharing this handle then reads and writes the new place.
   */
  moveTo(storage: Storage): void {
    if (storage.size !== this.current.size) throw new Error(`moveTo: storage of ${storage.size} floats for values of ${this.current.size}`);
    this.backend.copy(this.current, storage, this.current.size);
    this.backend.free(this.current);
    this.current = storage;
  }
}
