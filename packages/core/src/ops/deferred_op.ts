import type { Backend, Storage } from '../backend/backend.ts';
import type { DeferredWork, StorageHandle } from '../tensor/storage_handle.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { Shape } from '../util/shape.ts';
import { computeOp } from './compute.ts';

/**
 * A registered op whose output is computed on first use. It holds views of its inputs, so
 * disposing them does not free what it reads; an input about to be written in place is copied
 * first, so the deferred values are those of the call, as if it had run eagerly.
 */
export class DeferredOp<A> implements DeferredWork {
  private views: Tensor[];
  /** False once an input was replaced by a copy: the original tensors no longer hold what the op reads. */
  private intactInputs = true;

  constructor(
    readonly op: string,
    /** The tensors the op was called with (the tape's inputs). */
    readonly originals: readonly Tensor[],
    readonly attrs: A,
    private readonly backend: Backend,
    private readonly shape: Shape,
  ) {
    this.views = originals.map((t) => Tensor.adopt(t.view(t.shape)));
    for (const v of this.views) v.handleFor(op).addReader(this);
  }

  /** The inputs as the op will read them (views, or copies of inputs since written in place). */
  get inputs(): readonly Tensor[] {
    return this.views;
  }

  /** Whether the original tensors still hold the values the op reads. */
  get intact(): boolean {
    return this.intactInputs;
  }

  run(): Storage {
    return computeOp(this.op, this.views, this.attrs, this.backend, this.shape);
  }

  release(): void {
    for (const v of this.views) {
      v.handleFor(this.op).removeReader(this);
      v.dispose();
    }
    this.views = [];
  }

  inputWillChange(input: StorageHandle): void {
    const site = { op: `${this.op} (an input kept for values not yet computed, before it was written in place)` };
    this.views = this.views.map((v) => {
      if (v.handleFor(this.op) !== input) return v;
      const copy = Tensor.adopt(Tensor.fromStorage(v.shape, this.backend, this.backend.alloc(v.size, { ...site, shape: v.shape })));
      if (v.size > 0) this.backend.copy(v.storageFor(this.op), copy.storageFor(this.op), v.size);
      v.dispose();
      return copy;
    });
    input.removeReader(this);
    this.intactInputs = false;
  }
}
