import type { Backend, Storage } from '../backend/backend.ts';

/**
 * Shared ownership of one storage: views such as `reshape` share it, and the storage goes
 * back to the backend when the last tensor holding it is disposed.
 */
export class StorageHandle {
  private refs = 1;

  constructor(
    readonly backend: Backend,
    readonly storage: Storage,
  ) {}

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0) this.backend.free(this.storage);
  }
}
