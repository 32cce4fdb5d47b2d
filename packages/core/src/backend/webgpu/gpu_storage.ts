import type { Storage } from '../storage.ts';

/** A tensor's storage on the GPU: a pooled buffer, of which the first `size` floats are used. */
export interface GpuStorage extends Storage {
  readonly buffer: GPUBuffer;
}
