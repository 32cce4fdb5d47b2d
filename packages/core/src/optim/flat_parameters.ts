import type { Backend, Storage, StorageGroup } from '../backend/backend.ts';
import type { Program } from '../backend/webgpu/program.ts';
import { CHUNK_ACTIVE, CHUNK_FIRST_STEP, FLAT_CHUNK, flatUpdateProgram, type FlatUpdate } from '../kernels/optim.ts';
import type { Tensor } from '../tensor/tensor.ts';

/**
 * Parameters per flat buffer at most, in bytes: 128 MiB, the smallest binding every WebGPU
 * device allows, so a bucket always binds whole. Larger models get several buckets, each one
 * dispatch.
 */
const BUCKET_BYTES = 128 * 2 ** 20;

/** One parameter's place in a bucket: its index in the optimizer's list, where it starts, its size. */
interface Slot {
  readonly param: number;
  readonly offset: number;
  readonly size: number;
}

/** Params sharing flat buffers: their own storage, their gradients' copies and each kind of state. */
interface Bucket {
  readonly backend: Backend;
  readonly slots: readonly Slot[];
  readonly params: StorageGroup;
  readonly grads: StorageGroup;
  readonly states: Readonly<Record<string, StorageGroup>>;
  /** The chunk table of shaders/optim.wgsl: 4 u32 per chunk (start, count, slot, flags). */
  readonly chunks: Storage | null;
  readonly chunkCount: number;
  /** The flags last written to `chunks`, to write them again only when they change. */
  writtenFlags: string;
}

/** What one flat update needs besides the buffers: which params take a step and their flags. */
export interface FlatStep {
  readonly update: FlatUpdate;
  /** Params with a gradient this step. */
  readonly active: ReadonlySet<number>;
  /** The hyperparameters, as the update's entry point reads them (SgdHyper or AdamHyper). */
  readonly hyper: Float32Array;
  /** Storages bound besides the flat buffers (Adam's `step_counts`). */
  readonly extra?: Readonly<Record<string, Storage>>;
  /**
   * The CPU reference for one param: its slices of the flat buffers (by binding name), its
   * index, the host arrays of `extra`, and whether its state starts now (SGD's momentum buffer
   * is then the gradient itself).
   */
  readonly cpu: (slices: Record<string, Float32Array>, param: number, extra: Record<string, Float32Array>, firstStep: boolean) => void;
}

/**
 * An optimizer's parameters and per-element state in flat buffers, so that one dispatch per
 * bucket (128 MiB of parameters) updates every parameter, as PyTorch's foreach optimizers do.
 *
 * At the first step the parameters move into the buckets (the tensors, and any views of them,
 * then live there), and the state is made there, zeroed. Their old storage is freed once the
 * device has confirmed the buckets' allocations; if one failed (out of memory, which WebGPU
 * reports later), the parameters go back to it with their values, and the next step builds
 * the bucket again. Each step
 * copies the gradients into a flat buffer laid out like the parameters (a copy command each,
 * not a dispatch) and runs the update over the chunk table: one workgroup per piece of at most
 * `FLAT_CHUNK` floats of one parameter. A parameter moved out since (another optimizer's
 * buckets took it) is moved back, with this optimizer's state kept.
 */
export class FlatParameters {
  /** The params of each bucket (indices into `params`), fixed at the first step. */
  private layout: number[][] | null = null;
  /** Each bucket, or null where it is to be built at the next step. */
  private buckets: (Bucket | null)[] = [];
  /** Whether each param's state has taken a step since its bucket made it (zeroed). */
  private started: boolean[];
  /** The hyperparameters on the device, and the values last written there. */
  private hyper: { storage: Storage; backend: Backend; values: Float32Array } | null = null;

  constructor(
    private readonly owner: string,
    private readonly params: readonly Tensor[],
    /** The state's binding names in shaders/optim.wgsl (e.g. `momentum_buffer`). */
    private readonly stateNames: readonly string[],
  ) {
    this.started = params.map(() => false);
  }

  /** Records one update of the params in `step.active`, on `backend`. */
  step(op: string, backend: Backend, step: FlatStep): void {
    this.layout ??= this.bucketLayout();
    const buckets = this.layout.map((indices, b) => {
      const bucket = this.buckets[b];
      if (!bucket) return (this.buckets[b] = this.makeBucket(op, backend, indices, null));
      // A param another optimizer has taken since: a new bucket, with this one's state.
      if (bucket.slots.some((s, j) => this.params[s.param].storageFor(op) !== bucket.params.parts[j])) return (this.buckets[b] = this.makeBucket(op, backend, indices, bucket));
      return bucket;
    });
    const hyper = this.writeHyper(backend, step.hyper);
    for (const bucket of buckets) this.stepBucket(op, backend, bucket, step, hyper);
  }

  /** Frees the state and the gradients' buffers; the params keep their storage in the buckets. */
  dispose(): void {
    for (const bucket of this.buckets) if (bucket) freeBucket(bucket);
    this.buckets = [];
    this.hyper?.backend.free(this.hyper.storage);
    this.hyper = null;
  }

  /** The hyperparameters' storage, written when they changed (a schedule moved the learning rate). */
  private writeHyper(backend: Backend, values: Float32Array): Storage {
    this.hyper ??= { storage: backend.alloc(values.length, { op: `${this.owner} (hyperparameters)`, shape: [values.length] }), backend, values: new Float32Array(0) };
    const h = this.hyper;
    if (h.values.length !== values.length || h.values.some((v, i) => v !== values[i])) {
      backend.write(h.storage, values);
      h.values = values.slice();
    }
    return h.storage;
  }

  private stepBucket(op: string, backend: Backend, bucket: Bucket, step: FlatStep, hyper: Storage): void {
    const active = bucket.slots.map((s, j) => [s, j] as const).filter(([s]) => step.active.has(s.param) && s.size > 0);
    if (active.length === 0 || !bucket.chunks) return;
    for (const [s, j] of active) {
      // The update writes the param in place: deferred work reading it keeps its values first.
      this.params[s.param].storageForWrite(op);
      backend.copy(this.params[s.param].grad!.storageFor(op), bucket.grads.parts[j], s.size);
    }
    this.writeChunks(backend, bucket, bucket.chunks, step);
    const flat: Record<string, Storage> = { param: bucket.params.whole, grad: bucket.grads.whole, chunks: bucket.chunks, ...step.extra };
    for (const name of this.stateNames) flat[name] = bucket.states[name].whole;
    const hyperName = step.update.kind === 'adam' ? 'adam_hyper' : 'sgd_hyper';
    const program = flatUpdateProgram(step.update, bucket.chunkCount);
    const names = ['param', 'grad', ...this.stateNames];
    // Read before the step marks them started (the CPU reference runs inside `update`).
    const first = active.map(([s]) => !this.started[s.param]);
    backend.update(
      {
        name: op,
        cpu: (data) => {
          active.forEach(([s], k) => {
            const slices: Record<string, Float32Array> = {};
            for (const n of names) slices[n] = data[n].subarray(s.offset, s.offset + s.size);
            step.cpu(slices, s.param, data, first[k]);
          });
        },
        gpu: (bindings): Program[] => [{ ...program, bindings }],
      },
      { ...flat, [hyperName]: hyper },
    );
    for (const [s] of active) this.started[s.param] = true;
  }

  /** Writes the chunk table's flags when the active params or the first steps changed. */
  private writeChunks(backend: Backend, bucket: Bucket, chunks: Storage, step: FlatStep): void {
    const flags = bucket.slots.map((s) => (step.active.has(s.param) ? CHUNK_ACTIVE | (this.started[s.param] ? 0 : CHUNK_FIRST_STEP) : 0));
    const key = flags.join(',');
    if (key === bucket.writtenFlags) return;
    const table = new Uint32Array(bucket.chunkCount * 4);
    let c = 0;
    bucket.slots.forEach((s, j) => {
      for (let start = 0; start < s.size; start += FLAT_CHUNK) {
        table.set([s.offset + start, Math.min(FLAT_CHUNK, s.size - start), s.param, flags[j]], 4 * c++);
      }
    });
    // The table is u32; storages carry f32, and a write copies the bytes unchanged.
    backend.write(chunks, new Float32Array(table.buffer));
    bucket.writtenFlags = key;
  }

  /** Splits the params into buckets of at most BUCKET_BYTES (a larger param gets one of its own). */
  private bucketLayout(): number[][] {
    const groups: number[][] = [];
    let bytes = Infinity;
    this.params.forEach((p, i) => {
      const size = p.size * 4;
      if (bytes + size > BUCKET_BYTES) {
        groups.push([]);
        bytes = 0;
      }
      groups[groups.length - 1].push(i);
      bytes += size;
    });
    return groups;
  }

  /**
   * A bucket for `indices`, the params moved in and the state zeroed, or copied from `from`
   * (the same params, laid out alike) when it replaces that bucket.
   */
  private makeBucket(op: string, backend: Backend, indices: readonly number[], from: Bucket | null): Bucket {
    const sizes = indices.map((i) => this.params[i].size);
    const site = (what: string) => ({ op: `${this.owner} (${what})`, shape: [sizes.reduce((a, n) => a + n, 0)] });
    const params = backend.allocGroup(sizes, site('flat parameters'));
    const grads = backend.allocGroup(sizes, site('flat gradients'));
    const states: Record<string, StorageGroup> = {};
    for (const name of this.stateNames) {
      const group = backend.allocGroup(sizes, site(name));
      if (from) backend.copy(from.states[name].whole, group.whole, group.whole.size);
      else backend.write(group.whole, new Float32Array(group.whole.size));
      states[name] = group;
    }
    // Fresh state: each param's starts at its next step; copied state goes on.
    if (!from) for (const i of indices) this.started[i] = false;
    const previous = indices.map((i, j) => {
      const param = this.params[i];
      backend.copy(param.storageFor(op), params.parts[j], sizes[j]);
      return param.swapStorage(params.parts[j], op);
    });
    const slots = indices.map((param, j) => ({ param, offset: params.offsets[j], size: sizes[j] }));
    const chunkCount = slots.reduce((n, s) => n + Math.ceil(s.size / FLAT_CHUNK), 0);
    const chunks = chunkCount > 0 ? backend.alloc(chunkCount * 4, site('chunk table')) : null;
    const bucket: Bucket = { backend, slots, params, grads, states, chunks, chunkCount, writtenFlags: '' };
    void this.settle(bucket, previous, from);
    return bucket;
  }

  /**
   * Once the device has judged the new bucket's allocations: frees the params' old storage
   * (and the bucket it replaced); or, if one failed, points the params back at their old
   * storage, where their values still are, and brings back the bucket it replaced (or none, to
   * be built at the next step).
   */
  private async settle(bucket: Bucket, previous: readonly Storage[], from: Bucket | null): Promise<void> {
    const { backend } = bucket;
    const made = await backend.allocated([bucket.params.whole, bucket.grads.whole, ...Object.values(bucket.states).map((g) => g.whole)]);
    if (made) {
      for (const s of previous) backend.free(s);
      if (from) freeBucket(from);
      return;
    }
    bucket.slots.forEach((s, j) => {
      const param = this.params[s.param];
      const part = bucket.params.parts[j];
      if (!param.isDisposed && param.storageFor('restore') === part) {
        param.swapStorage(previous[j], 'restore');
        backend.free(part);
      } else backend.free(previous[j]);
    });
    freeBucket(bucket);
    const b = this.buckets.indexOf(bucket);
    if (b >= 0) this.buckets[b] = from;
  }
}

/** Frees what the bucket owns: the flat buffers' wholes, the gradients' and states' parts, the table. The params own their parts. */
function freeBucket(bucket: Bucket): void {
  const { backend } = bucket;
  backend.free(bucket.params.whole);
  for (const group of [bucket.grads, ...Object.values(bucket.states)]) {
    backend.free(group.whole);
    for (const part of group.parts) backend.free(part);
  }
  if (bucket.chunks) backend.free(bucket.chunks);
}
