import type { Backend } from '../backend/backend.ts';
import { sgdHyperValues, sgdMomentumProgram, sgdProgram } from '../kernels/optim.ts';
import { sgdReference } from '../reference/optim.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { checkAtLeast, Optimizer } from './optimizer.ts';
import { runInPlace } from '../ops/in_place.ts';
import { FlatParameters } from './flat_parameters.ts';

export interface SgdOptions {
  lr: number;
  /** Momentum factor (default 0: plain SGD, no momentum buffers). */
  momentum?: number;
  /** Dampening of the gradient's weight in the momentum buffer (default 0). */
  dampening?: number;
  /** L2 penalty: `weightDecay · param` is added to the gradient (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false); needs momentum > 0 and zero dampening. */
  nesterov?: boolean;
  /** Update every parameter at once (default true), or with a dispatch each (false); see `Optimizer.foreach`. */
  foreach?: boolean;
}

/**
 * Stochastic gradient descent with PyTorch's `torch.optim.SGD` algorithm: g ← grad + wd·p;
 * with momentum, b ← g on the first step and momentum·b + (1 − dampening)·g after, then
 * g ← g + momentum·b (Nesterov) or b; finally p ← p − lr·g. Runs on the parameters' device.
 */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  /** Momentum buffers by param index, created on a param's first step (per-parameter updates). */
  private buffers: (Tensor | null)[];
  /** The params and momentum buffers in flat buffers (updates of every parameter at once). */
  private flat: FlatParameters | null = null;

  constructor(params: readonly Tensor[], options: SgdOptions) {
    super(params, options.lr, options.foreach);
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
    checkAtLeast('SGD', 'momentum', this.momentum, 0);
    checkAtLeast('SGD', 'dampening', this.dampening, -Infinity);
    checkAtLeast('SGD', 'weightDecay', this.weightDecay, 0);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new Error(`SGD: Nesterov momentum requires a momentum > 0 and zero dampening, got momentum ${this.momentum} and dampening ${this.dampening}`);
    }
    this.buffers = this.params.map(() => null);
  }

  override get name(): string {
    return 'SGD';
  }

  protected update(op: string, backend: Backend, active: readonly number[]): void {
    const hyper = { lr: this.lr, momentum: this.momentum, dampening: this.dampening, weightDecay: this.weightDecay, nesterov: this.nesterov };
    if (this.foreach) {
      const momentum = this.momentum !== 0;
      this.flat ??= new FlatParameters(this.name, this.params, momentum ? ['momentum_buffer'] : []);
      this.flat.step(op, backend, {
        update: momentum ? { kind: 'sgd_momentum', nesterov: this.nesterov } : { kind: 'sgd' },
        active: new Set(active),
        hyper: sgdHyperValues(hyper),
        cpu: (d, _i, _extra, first) => sgdReference(d.param, d.grad, d.momentum_buffer ?? null, hyper, first),
      });
      return;
    }
    for (const i of active) {
      const param = this.params[i];
      const grad = param.grad!;
      const n = param.size;
      if (this.momentum === 0) {
        if (n === 0) continue;
        runInPlace(
          op,
          backend,
          { param, grad },
          sgdProgram(n, this.lr, this.weightDecay),
          (d) => sgdReference(d.param, d.grad, null, hyper, false),
        );
        continue;
      }
      const first = this.buffers[i] === null;
      const buffer = (this.buffers[i] ??= this.stateLike(param));
      if (n === 0) continue;
      runInPlace(
        op,
        backend,
        { param, grad, momentum_buffer: buffer },
        sgdMomentumProgram(n, hyper, first),
        (d) => sgdReference(d.param, d.grad, d.momentum_buffer, hyper, first),
      );
    }
  }

  protected disposeState(): void {
    for (const b of this.buffers) b?.dispose();
    this.buffers = this.buffers.map(() => null);
    this.flat?.dispose();
    this.flat = null;
  }
}
