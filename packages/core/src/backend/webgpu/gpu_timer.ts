/** A timed compute pass: one dispatch's, or a pass of several as the backend batches them. */
export interface DispatchTime {
  /** `kernel.entryPoint` of the program, or 'pass' for a pass of several dispatches. */
  readonly name: string;
  /** Nanoseconds between the start and the end of the compute pass. */
  readonly ns: number;
}

/**
 * What `WebGpuBackend.startGpuTiming` times. 'dispatch': each dispatch in a compute pass of its
 * own, for a profile per kernel (each pass adds the cost of its start and end, several µs on a
 * GPU, so tiny dispatches read long). 'pass': the passes the backend records anyway, several
 * dispatches each, for the GPU time of a whole step or call as it normally runs.
 */
export type TimingGranularity = 'dispatch' | 'pass';

/** WebGPU's limit on the queries of one query set is 4096: two per dispatch. */
export const MAX_TIMED_DISPATCHES = 2048;

/**
 * Times compute passes on the GPU: each timed pass writes timestamps at its beginning and end
 * into a query set; `resolve` and `times` read them. Needs the
 * device's 'timestamp-query' feature (acquireDevice asks for it where the adapter has it).
 * Browsers may round timestamps (Chrome to 100 µs unless its WebGPU developer features are
 * on), so short dispatches read as 0 there; Dawn in Node gives the driver's resolution.
 */
export class GpuTimer {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuffer: GPUBuffer;
  private readonly names: string[] = [];
  /** Passes that found the query set full and went untimed. */
  dropped = 0;

  constructor(
    device: GPUDevice,
    readonly granularity: TimingGranularity = 'dispatch',
    /** The most passes one timing run records. */
    readonly capacity = MAX_TIMED_DISPATCHES,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_TIMED_DISPATCHES) {
      throw new Error(`GpuTimer: capacity must be an integer from 1 to ${MAX_TIMED_DISPATCHES} (two timestamps per dispatch, 4096 per query set), got ${capacity}`);
    }
    if (!device.features.has('timestamp-query')) throw new Error("GpuTimer: the device lacks the 'timestamp-query' feature");
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * capacity });
    this.resolveBuffer = device.createBuffer({ size: 16 * capacity, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  }

  /** The timestamp writes for the next timed pass, or undefined once the query set is full. */
  next(name: string): GPUComputePassTimestampWrites | undefined {
    if (this.names.length >= this.capacity) {
      this.dropped++;
      return undefined;
    }
    const i = this.names.length;
    this.names.push(name);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Records the resolve of every timestamp so far and a copy into `staging` (16 bytes per dispatch). */
  resolve(encoder: GPUCommandEncoder, staging: GPUBuffer): void {
    const n = this.names.length;
    if (n === 0) return;
    encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuffer, 0);
    encoder.copyBufferToBuffer(this.resolveBuffer, 0, staging, 0, 16 * n);
  }

  /** Bytes `resolve` copies. */
  get bytes(): number {
    return 16 * this.names.length;
  }

  /** The times from a mapped copy of the resolved timestamps. */
  times(mapped: ArrayBuffer): DispatchTime[] {
    const stamps = new BigUint64Array(mapped, 0, 2 * this.names.length);
    return this.names.map((name, i) => ({ name, ns: Number(stamps[2 * i + 1] - stamps[2 * i]) }));
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuffer.destroy();
  }
}
