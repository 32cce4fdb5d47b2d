import type { Backend, Storage } from '../backend/backend.ts';
import { shapeToString, sizeOf, type Shape } from '../util/shape.ts';
import { StorageHandle, type DeferredWork } from './storage_handle.ts';
import { trackTensor, untrackTensor } from './scope_stack.ts';

/** How a tensor was made, for reverse-mode differentiation. */
export interface GradNode {
  /** The op's name, used in error messages. */
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Gradients of the op's inputs given the gradient of its output (null: no gradient). */
  backward(grad: Tensor): (Tensor | null)[];
}

let nextTensorId = 1;

/** A float32 tensor with contiguous row-major storage on one backend. */
export class Tensor {
  readonly isTensor = true;
  readonly id = nextTensorId++;
  readonly shape: Shape;
  /** Whether gradients flow to this tensor; set it on leaves (parameters, inputs). */
  requiresGrad = false;
  /** The accumulated gradient of a leaf after `backward()`. Owned by this tensor. */
  grad: Tensor | null = null;
  /** The op that produced this tensor when it was recorded for autograd. */
  gradFn: GradNode | null = null;
  /** @internal The op that made this tensor, kept once it is disposed (for backward's errors). */
  disposedOp: string | null = null;
  private handle: StorageHandle | null;

  /** @internal Use `fromArray`, `zeros`, ops... */
  constructor(shape: Shape, handle: StorageHandle) {
    this.shape = Object.freeze([...shape]);
    this.handle = handle;
    trackTensor(this);
  }

  get size(): number {
    return sizeOf(this.shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.handle === null;
  }

  get backend(): Backend {
    return this.liveHandle('use').backend;
  }

  /** The backend, for ops; throws naming `op` when the tensor was disposed. */
  backendFor(op: string): Backend {
    return this.liveHandle(op).backend;
  }

  /** The storage, for ops; throws naming `op` when the tensor was disposed. */
  storageFor(op: string): Storage {
    return this.liveHandle(op).storage;
  }

  /**
   * The storage, for `op`, which is about to write it in place (an optimizer step, a load):
   * deferred work that reads it first keeps the values it needs.
   */
  storageForWrite(op: string): Storage {
    const handle = this.liveHandle(op);
    const storage = handle.storage;
    handle.beforeWrite();
    return storage;
  }

  /**
   * Records the work that computes this tensor's values, where it was deferred, and returns
   * the tensor. Values are computed on first use anyway; a normalization's output is deferred
   * so that a ReLU that follows can run in the same kernel pass. Call it where the values are
   * wanted although nothing reads them (a benchmark of the op alone). It neither waits nor reads.
   */
  realize(): this {
    this.liveHandle('realize').storage;
    return this;
  }

  /** @internal The work that will compute this tensor's values, while nobody has asked for them. */
  get deferredWork(): DeferredWork | null {
    return this.handle?.deferred ?? null;
  }

  /** @internal The storage handle, for deferred work that reads this tensor. */
  handleFor(op: string): StorageHandle {
    return this.liveHandle(op);
  }

  /**
   * @internal Points this tensor (and every view of it) at `storage`, to which the caller has
   * copied its values, and returns the old storage, which the caller now owns and frees.
   */
  swapStorage(storage: Storage, op: string): Storage {
    return this.liveHandle(op).swap(storage);
  }

  /** @internal A new tensor of another shape sharing this storage (same element count). */
  view(shape: Shape): Tensor {
    return new Tensor(shape, this.liveHandle('view').retain());
  }

  /** Reads the values back (waits for the GPU). */
  async toArray(): Promise<Float32Array> {
    const h = this.liveHandle('toArray');
    return h.backend.read(h.storage);
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item: expected a tensor with one element, got shape ${shapeToString(this.shape)}`);
    return (await this.toArray())[0];
  }

  /** Frees the storage (shared views keep it alive) and this tensor's gradient. */
  dispose(): void {
    if (!this.handle) return;
    this.handle.release();
    this.handle = null;
    this.disposedOp = this.gradFn?.op ?? null;
    this.gradFn = null;
    untrackTensor(this);
    this.grad?.dispose();
    this.grad = null;
  }

  /** A tensor sharing this one's values, cut from the autograd graph. */
  detach(): Tensor {
    return this.view(this.shape);
  }

  /** Sets `requiresGrad` and returns this tensor, for chaining. */
  requireGrad(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }

  toString(): string {
    return `Tensor#${this.id}${shapeToString(this.shape)}${this.handle ? '' : ' (disposed)'}`;
  }

  private liveHandle(op: string): StorageHandle {
    if (!this.handle) throw new Error(`${op}: tensor #${this.id} of shape ${shapeToString(this.shape)} was disposed`);
    return this.handle;
  }

  /** @internal Wraps fresh storage from a backend. */
  static fromStorage(shape: Shape, backend: Backend, storage: Storage): Tensor {
    return new Tensor(shape, new StorageHandle(backend, storage));
  }

  /** @internal A tensor whose values `work` computes the first time they are used. */
  static deferred(shape: Shape, backend: Backend, work: DeferredWork): Tensor {
    return new Tensor(shape, new StorageHandle(backend, work));
  }

  /** @internal Gives a tensor to its owner (a leaf's gradient, optimizer state): no scope collects it. */
  static adopt(t: Tensor): Tensor {
    untrackTensor(t);
    return t;
  }
}
