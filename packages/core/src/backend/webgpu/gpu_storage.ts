import type { Storage } from '../storage.ts';

/**
 * A tensor's storage on the GPU: `size` floats of a pooled buffer, from `offset`. A buffer of
 * its own starts at 0; a part of a storage group (see `Backend.allocGroup`) shares its buffer
 * with the group's other parts and starts further in.
 */
export interface GpuStorage extends Storage {
  readonly buffer: GPUBuffer;
  /** Where the storage starts in `buffer`, in bytes (absent: 0); a multiple of minStorageBufferOffsetAlignment. */
  readonly offset?: number;
}
