import type { Backend, DeferredWrite, MemoryReport, Storage } from './backend.ts';

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
  private created = 0;

  alloc(size: number): CpuStorage {
    const storage = { id: this.nextId++, size, data: new Float32Array(size) };
    this.live.set(storage.id, size * 4);
    this.created++;
    return storage;
  }

  write(storage: Storage, data: Float32Array): void {
    (storage as CpuStorage).data.set(data);
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
  }

  flush(): void {}

  async sync(): Promise<void> {}

  memory(): MemoryReport {
    let liveBytes = 0;
    for (const b of this.live.values()) liveBytes += b;
    return { liveBuffers: this.live.size, liveBytes, pooledBuffers: 0, pooledBytes: 0, createdBuffers: this.created };
  }
}
