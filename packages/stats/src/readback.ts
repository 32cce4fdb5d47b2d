import { concat, keep, noGrad, reshape, tidy, type Tensor } from '@welford/core';

interface Entry {
  key: string;
  tensor: Tensor;
  /** Whether the batch disposes it (a result it computed) or only copies it (a live parameter or buffer). */
  owned: boolean;
}

/**
 * The small tensors of one read step, read back together: `start()` copies them into one flat
 * tensor (one dispatch per entry, one readback for the step) and starts reading it without
 * waiting. The GPU work stays queued behind the training step's; nothing waits for it.
 */
export class ReadbackBatch {
  private entries: Entry[] = [];
  private readonly keys = new Set<string>();

  /** Adds a result computed for this batch; it leaves every `tidy` scope and is disposed once copied. */
  own(key: string, tensor: Tensor): void {
    this.add(key, keep(tensor), true);
  }

  /** Adds a live tensor (a parameter or buffer): its values when `start()` runs are read. */
  live(key: string, tensor: Tensor): void {
    this.add(key, tensor, false);
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /**
   * Copies every entry into one tensor, starts reading it and frees what the batch owns. The
   * promise gives each entry's values by key.
   */
  start(): Promise<Map<string, Float32Array>> {
    const entries = this.entries;
    this.entries = [];
    this.keys.clear();
    if (entries.length === 0) return Promise.resolve(new Map());
    let reading: Promise<Float32Array>;
    try {
      const flat = tidy(() => noGrad(() => concat(entries.map((e) => reshape(e.tensor, [e.tensor.size])), 0)));
      // The copy into the staging buffer is recorded before toArray returns, so the flat
      // tensor and the owned results can go back to the pool at once.
      reading = flat.toArray();
      flat.dispose();
    } finally {
      for (const e of entries) if (e.owned) e.tensor.dispose();
    }
    return reading.then((values) => {
      const out = new Map<string, Float32Array>();
      let offset = 0;
      for (const e of entries) {
        out.set(e.key, values.subarray(offset, offset + e.tensor.size));
        offset += e.tensor.size;
      }
      return out;
    });
  }

  /** Frees what the batch owns without reading it. */
  dispose(): void {
    for (const e of this.entries) if (e.owned) e.tensor.dispose();
    this.entries = [];
    this.keys.clear();
  }

  private add(key: string, tensor: Tensor, owned: boolean): void {
    if (this.keys.has(key)) throw new Error(`ReadbackBatch: key "${key}" was added twice`);
    this.keys.add(key);
    this.entries.push({ key, tensor, owned });
  }
}
