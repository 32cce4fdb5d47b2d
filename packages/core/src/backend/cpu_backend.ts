import type { Backend, DeferredWrite, MemoryReport, StorageGroup } from './backend.ts';
import type { InPlaceKernel, OpKernel } from './op_kernel.ts';
import type { HostArray, KernelArg, Storage } from './storage.ts';
import { AllocationError, describeSite, formatBytes, type AllocationSite } from './errors.ts';

/** Host storage for the CPU backend. */
export interface CpuStorage extends Storage {
  readonly data: Float32Array;
}

/**
 * The pure-TypeScript backend: ops run their CPU reference (float64 accumulation) on host
 * arrays. It is the specification the WebGPU kernels are tested against, and the fallback
 * where WebGPU is missing.
 */
export class CpuBackend implements Backend {
  readonly kind = 'cpu' as const;
  readonly description = 'cpu: TypeScript reference (float64 accumulation)';
  private nextId = 1;
  private live = new Map<number, number>();
  /** The group of each live storage that is the whole or a part of one (`live` holds 0 bytes for them). */
  private groups = new Map<number, { readonly bytes: number }>();
  private created = 0;

  alloc(size: number, site: AllocationSite = { op: 'alloc', shape: [size] }): CpuStorage {
    const storage = { id: this.nextId++, size, data: this.array(size, site) };
    this.live.set(storage.id, size * 4);
    this.created++;
    return storage;
  }

  /**
   * One array for all `sizes` (see `Backend.allocGroup`), the parts packed back to back: a host
   * array needs no alignment (1 float), so `offsets` are the running sums of `sizes` and the
   * whole is exactly their concatenation. Parts are views of the whole's array.
   */
  allocGroup(sizes: readonly number[], site?: AllocationSite): StorageGroup {
    const offsets: number[] = [];
    let total = 0;
    for (const size of sizes) {
      if (!Number.isInteger(size) || size < 0) throw new Error(`allocGroup: sizes are counts of floats, got ${size}`);
      offsets.push(total);
      total += size;
    }
    const data = this.array(total, site ?? { op: 'allocGroup', shape: [total] });
    const whole: CpuStorage = { id: this.nextId++, size: total, data };
    const parts: CpuStorage[] = sizes.map((size, i) => ({ id: this.nextId++, size, data: data.subarray(offsets[i], offsets[i] + size) }));
    const share = { bytes: total * 4 };
    for (const s of [whole, ...parts]) {
      this.live.set(s.id, 0);
      this.groups.set(s.id, share);
    }
    this.created++;
    return { whole, parts, offsets };
  }

  private array(size: number, site: AllocationSite): Float32Array {
    try {
      return new Float32Array(size);
    } catch (e) {
      // V8 refuses typed arrays past its length limit, or when the process is out of memory.
      throw new AllocationError(`${describeSite(site)} needs ${formatBytes(size * 4)}, more than the CPU backend can hold in one array (${(e as Error).message}); nothing was allocated`, site, size * 4, 'out-of-memory');
    }
  }

  write(storage: Storage, data: Float32Array): void {
    (storage as CpuStorage).data.set(data);
  }

  execute<A>(kernel: OpKernel<A>, inputs: readonly KernelArg[], output: KernelArg, attrs: A): void {
    kernel.cpu(inputs.map(host), host(output), attrs);
  }

  update(kernel: InPlaceKernel, storages: Record<string, Storage>): void {
    const data: Record<string, Float32Array> = {};
    for (const [name, s] of Object.entries(storages)) data[name] = (s as CpuStorage).data;
    kernel.cpu(data);
  }

  copy(from: Storage, to: Storage, size: number, fromOffset = 0, toOffset = 0): void {
    (to as CpuStorage).data.set((from as CpuStorage).data.subarray(fromOffset, fromOffset + size), toOffset);
  }

  /** A CPU allocation that fails throws at once, so every storage handed out was made. */
  async allocated(): Promise<boolean> {
    return true;
  }

  async read(storage: Storage): Promise<Float32Array> {
    return (storage as CpuStorage).data.slice();
  }

  deferWrite(): DeferredWrite {
    // Ops run here as they are called, so later work cannot wait for data that comes after.
    throw new Error(`${this.description}: deferred writes (collectives across replicas, synchronised batch norm) need the WebGPU backend, whose work waits in its queue`);
  }

  fence(): void {}

  free(storage: Storage): void {
    this.live.delete(storage.id);
    this.groups.delete(storage.id);
  }

  flush(): void {}

  async sync(): Promise<void> {}

  memory(): MemoryReport {
    let liveBytes = 0;
    for (const b of this.live.values()) liveBytes += b;
    // A group counts once, while any of its storages is live (the array lives as long).
    for (const g of new Set(this.groups.values())) liveBytes += g.bytes;
    return { liveBuffers: this.live.size, liveBytes, pooledBuffers: 0, pooledBytes: 0, createdBuffers: this.created, readbackBuffers: 0 };
  }
}

function host(arg: KernelArg): HostArray {
  return { shape: arg.shape, data: (arg.storage as CpuStorage).data };
}
