import type { Backend, Storage } from '../backend/backend.ts';
import { noGrad } from '../tensor/grad_mode.ts';
import { zeros } from '../ops/creation.ts';
import { Tensor } from '../tensor/tensor.ts';
import { sameShape, shapeToString } from '../util/shape.ts';

/**
 * What the optimizers share: the parameter list, a learning rate that may change between
 * steps (schedules set it), PyTorch's `zero_grad(set_to_none=True)`, and an atomic `step()`
 * that validates every parameter before it updates any.
 */
export abstract class Optimizer {
  /** The parameters, in the order given; "param i" in error messages indexes this list. */
  readonly params: readonly Tensor[];
  /**
   * Whether a step updates every parameter at once (the default), as PyTorch's foreach
   * optimizers do: one dispatch per 128 MiB of parameters instead of one per parameter. The
   * parameters then move, at the first step, into one buffer that the optimizer shares with
   * them (the tensors stay the same objects, and their values do not change), and each step
   * copies the gradients into a buffer laid out alike. Both ways run the same arithmetic.
   */
  readonly foreach: boolean;
  private learningRate = 0;
  private disposed = false;

  /** The optimizer's name in error messages ("SGD", "Adam"...); subclasses override this getter, which the constructor reads. */
  get name(): string {
    return 'Optimizer';
  }

  constructor(params: readonly Tensor[], lr: number, foreach = true) {
    if (!Array.isArray(params) || params.length === 0) throw new Error(`${this.name}: got an empty parameter list`);
    const owners = new Map<Storage, number>();
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new Error(`${this.name}: param ${i} is not a Tensor`);
      // Two params sharing storage (the same tensor twice, or views) would be updated twice.
      const storage = p.storageFor(this.name);
      const other = owners.get(storage);
      if (other !== undefined) throw new Error(`${this.name}: params ${other} and ${i} share storage; list each parameter once`);
      owners.set(storage, i);
    });
    if (typeof foreach !== 'boolean') throw new Error(`${this.name}: foreach must be true or false, got ${String(foreach)}`);
    this.params = [...params];
    this.lr = lr;
    this.foreach = foreach;
  }

  /** The learning rate used by the next `step()`. */
  get lr(): number {
    return this.learningRate;
  }

  set lr(value: number) {
    checkAtLeast(this.name, 'lr', value, 0);
    this.learningRate = value;
  }

  /**
   * Updates every parameter that has a gradient, in place (parameters without one are
   * skipped, as in PyTorch). Everything is checked before anything is dispatched, so a step
   * that throws leaves every parameter and all optimizer state unchanged.
   */
  step(): void {
    const op = `${this.name}.step`;
    if (this.disposed) throw new Error(`${op}: the optimizer was disposed`);
    const { backend, active } = this.validate(op);
    if (active.length > 0) noGrad(() => this.update(op, backend, active));
  }

  /** Throws what `step()` would throw about the parameters and gradients, changing nothing. */
  checkStep(): void {
    const op = `${this.name}.step`;
    if (this.disposed) throw new Error(`${op}: the optimizer was disposed`);
    this.validate(op);
  }

  /** Disposes every parameter's gradient and sets it to null (PyTorch's `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Frees the optimizer's state (momentum buffers, moments, step counts); `step()` then throws. */
  dispose(): void {
    this.disposed = true;
    this.disposeState();
  }

  /** Updates the parameters listed in `active` (indices into `params`, each with a valid gradient). */
  protected abstract update(op: string, backend: Backend, active: readonly number[]): void;

  protected abstract disposeState(): void;

  /** A zero tensor like `like`, owned by this optimizer: no tidy scope disposes it. */
  protected stateLike(like: Tensor): Tensor {
    return Tensor.adopt(zeros(like.shape, { backend: like.backend }));
  }

  private validate(op: string): { backend: Backend; active: number[] } {
    this.params.forEach((p, i) => {
      if (p.isDisposed) throw new Error(`${op}: param ${i} of shape ${shapeToString(p.shape)} was disposed`);
    });
    const backend = this.params[0].backend;
    const active: number[] = [];
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i];
      if (p.backend !== backend) {
        throw new Error(`${op}: all parameters must be on one device; param 0 is on ${backend.description}, param ${i} (shape ${shapeToString(p.shape)}) is on ${p.backend.description}`);
      }
      const g = p.grad;
      if (!g) continue;
      if (g.isDisposed) throw new Error(`${op}: the gradient of param ${i} (shape ${shapeToString(p.shape)}) was disposed`);
      if (!sameShape(g.shape, p.shape)) {
        throw new Error(`${op}: param ${i} has shape ${shapeToString(p.shape)} but its gradient has shape ${shapeToString(g.shape)}`);
      }
      if (g.backend !== backend) throw new Error(`${op}: param ${i} is on ${backend.description} but its gradient is on ${g.backend.description}`);
      if (g.storageFor(op) === p.storageFor(op)) throw new Error(`${op}: the gradient of param ${i} shares storage with the param`);
      active.push(i);
    }
    return { backend, active };
  }
}

/** Throws unless `value` is a number at least `min` (and below `below` when given), naming the option. */
export function checkAtLeast(optimizer: string, option: string, value: number, min: number, below?: number): void {
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && (below === undefined || value < below);
  if (!ok) {
    const range = below !== undefined ? ` in [${min}, ${below})` : min > -Infinity ? ` >= ${min}` : '';
    throw new Error(`${optimizer}: ${option} must be a finite number${range}, got ${value}`);
  }
}
