/**
 * Size-class pool of storage buffers. Sizes round up to 2^k or 1.5·2^k bytes (at most a third
 * wasted), so the buffers a training step frees are the ones the next step gets back and a
 * steady loop creates no new buffers.
 */
export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private pooledBytesTotal = 0;
  private pooledCount = 0;
  created = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
  ) {}

  static sizeClass(bytes: number): number {
    const b = Math.max(16, bytes);
    const pow = 2 ** Math.ceil(Math.log2(b));
    const threeQuarters = (pow / 4) * 3;
    return threeQuarters >= b ? threeQuarters : pow;
  }

  acquire(bytes: number): GPUBuffer {
    const size = BufferPool.sizeClass(bytes);
    const list = this.free.get(size);
    const reused = list?.pop();
    if (reused) {
      this.pooledBytesTotal -= size;
      this.pooledCount--;
      return reused;
    }
    this.created++;
    return this.device.createBuffer({ size, usage: this.usage });
  }

  release(buffer: GPUBuffer): void {
    const list = this.free.get(buffer.size) ?? [];
    list.push(buffer);
    this.free.set(buffer.size, list);
    this.pooledBytesTotal += buffer.size;
    this.pooledCount++;
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
