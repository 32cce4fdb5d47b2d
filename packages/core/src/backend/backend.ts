import type { AllocationSite } from './errors.ts';
import type { InPlaceKernel, OpKernel } from './op_kernel.ts';
import type { KernelArg, Storage } from './storage.ts';

export type { HostArray, KernelArg, Storage } from './storage.ts';

/** Storage for several tensors in one allocation (see `Backend.allocGroup`). */
export interface StorageGroup {
  /** Spans every part (and the padding between them): one kernel binds it to reach them all. */
  readonly whole: Storage;
  /** Part i holds sizes[i] floats. */
  readonly parts: readonly Storage[];
  /** Where part i starts in `whole`, in floats (aligned as the device requires to bind a part on its own). */
  readonly offsets: readonly number[];
}

/** What a backend reports about its memory. */
export interface MemoryReport {
  /** Storages handed out and not yet freed (the whole and each part of a storage group count apiece). */
  liveBuffers: number;
  /**
   * Bytes of those storages (as requested, before size-class rounding). A storage group counts
   * once, at its whole's size (padding included), until its whole and every part are freed.
   */
  liveBytes: number;
  /** Buffers kept for reuse by the pool. */
  pooledBuffers: number;
  pooledBytes: number;
  /** Buffers ever created by the backend (a training step that allocates shows up here). */
  createdBuffers: number;
  /**
   * Of those, the mappable buffers that reads copy into: one per read in flight and size, so
   * their number follows how many reads overlapped (how far the host ran ahead), not the step.
   */
  readbackBuffers: number;
}

/**
 * The small interface every backend implements. It knows nothing of gradients: an op hands
 * it both ways of computing (its CPU reference and its GPU programs) and the backend runs
 * the one it understands.
 */
export interface Backend {
  readonly kind: 'webgpu' | 'cpu';
  /** What it runs on, e.g. "webgpu: google swiftshader (SwiftShader driver 5.0.0)". */
  readonly description: string;
  /**
   * Storage for `size` floats, for the tensor `site` describes (named in errors). Throws an
   * AllocationError when the backend cannot hold that many; a lost device throws DeviceLostError
   * from this and every other call but `free`, `flush` and `memory`.
   */
  alloc(size: number, site?: AllocationSite): Storage;
  /**
   * Storage for several tensors in one allocation: part i holds sizes[i] floats and `whole`
   * spans them all, so that one kernel bound to the whole reaches every part (an optimizer
   * updating all its parameters in one dispatch). Each part is a storage like any other (ops
   * bind, read, write, copy and free it); the allocation goes back to the backend once the
   * whole and every part are freed. Throws an AllocationError naming `site` when the total is
   * more than one buffer may hold.
   */
  allocGroup(sizes: readonly number[], site?: AllocationSite): StorageGroup;
  write(storage: Storage, data: Float32Array): void;
  /**
   * Computes one op's output: the CPU backend runs the reference, a GPU backend records the
   * op's programs (and its index checks). `inputs` and `output` are the tensors' shapes and
   * storages on this backend.
   */
  execute<A>(kernel: OpKernel<A>, inputs: readonly KernelArg[], output: KernelArg, attrs: A): void;
  /** Runs an update that writes `storages` in place (see InPlaceKernel). */
  update(kernel: InPlaceKernel, storages: Record<string, Storage>): void;
  /**
   * Copies `size` floats of `from`, starting at float `fromOffset`, into `to` at `toOffset`, in
   * order with the work around it.
   */
  copy(from: Storage, to: Storage, size: number, fromOffset?: number, toOffset?: number): void;
  read(storage: Storage): Promise<Float32Array>;
  /**
   * Resolves once the device has judged the allocations of `storages`: false when one of them
   * failed (WebGPU reports running out of memory only later; the next read or sync throws it).
   * A caller that moved data into new storage keeps the old until then, so nothing is lost.
   */
  allocated(storages: readonly Storage[]): Promise<boolean>;
  free(storage: Storage): void;
  /**
   * Reserves `storages` for data the host gives later, e.g. statistics combined across
   * replicas: work recorded after this call waits (unsubmitted) until `write` fills them,
   * so recording goes on without awaiting anything. WebGPU only.
   */
  deferWrite(storages: Storage[]): DeferredWrite;
  /**
   * Marks the end of a unit of work (a training step) for `DeferredWrite.abort`: an abort drops
   * the held work up to the first fence after its hold, not what was recorded after the fence.
   */
  fence(): void;
  /** Sends recorded work to the device without waiting for it. */
  flush(): void;
  /** Resolves when all submitted work has finished. */
  sync(): Promise<void>;
  memory(): MemoryReport;
}

/** Data promised to a backend by `deferWrite`. */
export interface DeferredWrite {
  /** Writes one array per storage (each of the storage's size), then lets the held work run. */
  write(data: Float32Array[]): void;
  /**
   * Drops the held work up to the next fence (it never runs); reads that waited on it reject
   * with `error` (none waiting: the next read does, unless `reported` says the caller has told
   * the user already).
   */
  abort(error: Error, reported?: boolean): void;
}
