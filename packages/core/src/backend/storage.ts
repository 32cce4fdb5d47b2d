import type { Shape } from '../util/shape.ts';

/** A block of float32 storage owned by a backend. `size` counts elements, not bytes. */
export interface Storage {
  readonly id: number;
  readonly size: number;
}

/** One tensor as a kernel sees it: its shape and its storage. */
export interface KernelArg<S extends Storage = Storage> {
  readonly shape: Shape;
  readonly storage: S;
}

/** A tensor on the host, as the CPU reference sees it. */
export interface HostArray {
  readonly shape: Shape;
  readonly data: Float32Array;
}
