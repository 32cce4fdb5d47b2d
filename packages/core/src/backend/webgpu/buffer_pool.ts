import type { AllocationSite } from '../errors.ts';

/** Makes a buffer of `size` bytes for `site`; may throw where an implementation refuses at once. */
export type CreateBuffer = (size: number, site: AllocationSite) => GPUBuffer;

/**
 * Size-class pool of storage buffers. Sizes round up to 2^k or 1.5·2^k bytes (at most a third
 * wasted, and never past `maxSize`), so the buffers a training step frees are the ones the next
 * step gets back and a steady loop creates no new buffers. A buffer the device failed to create
 * (out of memory) is never handed out again.
 *
 * Of the free buffers of a size, `acquire` hands out the oldest (the one created first). The
 * buffers a step gets then depend only on which are free when it starts, not on the order the
 * previous step freed them in: a repeated step binds the same buffers to the same kernels every
 * time, so its bind groups are all found in the backend's cache.
 */
export class BufferPool {
  /** Free buffers by size, each list ordered newest first (the oldest is popped). */
  private free = new Map<number, GPUBuffer[]>();
  private readonly failed = new WeakSet<GPUBuffer>();
  /** Creation order of every buffer this pool made. */
  private readonly order = new WeakMap<GPUBuffer, number>();
  private pooledBytesTotal = 0;
  private pooledCount = 0;
  created = 0;

  constructor(
    private readonly create: CreateBuffer,
    /** The largest buffer the device allows (requests up to it are served exactly). */
    private readonly maxSize: number = Infinity,
    /** Gives memory back to the driver (submits recorded work, then trims the pools). */
    private readonly relieve: () => void = () => this.trim(),
  ) {}

  static sizeClass(bytes: number): number {
    const b = Math.max(16, bytes);
    const pow = 2 ** Math.ceil(Math.log2(b));
    const threeQuarters = (pow / 4) * 3;
    return threeQuarters >= b ? threeQuarters : pow;
  }

  acquire(bytes: number, site: AllocationSite): GPUBuffer {
    const rounded = BufferPool.sizeClass(bytes);
    const size = rounded > this.maxSize ? Math.ceil(Math.max(16, bytes) / 4) * 4 : rounded;
    const list = this.free.get(size);
    const reused = list?.pop();
    if (reused) {
      this.pooledBytesTotal -= size;
      this.pooledCount--;
      return reused;
    }
    let buffer: GPUBuffer;
    try {
      buffer = this.create(size, site);
    } catch {
      // Refused at once (some implementations throw when memory is short): give the pooled
      // buffers back to the driver and try once more; a second refusal goes to the caller.
      this.relieve();
      buffer = this.create(size, site);
    }
    this.created++;
    this.order.set(buffer, this.created);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    if (this.failed.has(buffer)) {
      buffer.destroy();
      return;
    }
    const list = this.free.get(buffer.size) ?? [];
    list.splice(this.insertionPoint(list, this.order.get(buffer) ?? 0), 0, buffer);
    this.free.set(buffer.size, list);
    this.pooledBytesTotal += buffer.size;
    this.pooledCount++;
  }

  /** Where a buffer made `made`-th goes in a list ordered newest first (binary search). */
  private insertionPoint(list: readonly GPUBuffer[], made: number): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.order.get(list[mid]) ?? 0) > made) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Whether the device failed to create `buffer` (as far as it has said so far). */
  hasFailed(buffer: GPUBuffer): boolean {
    return this.failed.has(buffer);
  }

  /** Marks a buffer the device failed to create: destroyed when released (or now, if pooled). */
  discard(buffer: GPUBuffer): void {
    this.failed.add(buffer);
    const list = this.free.get(buffer.size);
    const at = list?.indexOf(buffer) ?? -1;
    if (list && at >= 0) {
      list.splice(at, 1);
      this.pooledBytesTotal -= buffer.size;
      this.pooledCount--;
      buffer.destroy();
    }
  }

  /** Destroys every pooled buffer (work already submitted that uses them still completes). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pooledBytesTotal = 0;
    this.pooledCount = 0;
  }

  get pooledBytes(): number {
    return this.pooledBytesTotal;
  }

  get pooledBuffers(): number {
    return this.pooledCount;
  }
}
