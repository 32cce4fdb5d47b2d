import type { Backend } from '../backend/backend.ts';
import { adamHyperValues, adamProgram, advanceStepProgram } from '../kernels/optim.ts';
import { adamReference, advanceStepReference } from '../reference/optim.ts';
import { Tensor } from '../tensor/tensor.ts';
import { zeros } from '../ops/creation.ts';
import { checkAtLeast, Optimizer } from './optimizer.ts';
import { runInPlace } from '../ops/in_place.ts';
import { FlatParameters } from './flat_parameters.ts';

/** Slots one `advance_step` dispatch covers: the bits of its `array<vec4<u32>, 2>` mask. */
const SLOTS_PER_ADVANCE = 256;

export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay (default 1e-2). */
  weightDecay?: number;
  /** Update every parameter at once (default true), or with a dispatch each (false); see `Optimizer.foreach`. */
  foreach?: boolean;
}

interface Moments {
  readonly expAvg: Tensor;
  readonly expAvgSq: Tensor;
}

/**
 * Adam with PyTorch's `torch.optim.Adam` algorithm: g ← grad + wd·p, m ← β1·m + (1 − β1)·g,
 * v ← β2·v + (1 − β2)·g², p ← p − lr/(1 − β1^t) · m / (√v/√(1 − β2^t) + ε), where t counts the
 * steps this parameter has taken. Runs on the parameters' device; the step counts stay there.
 */
export class Adam extends Optimizer {
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  /** First and second moments by param index, created on a param's first step (per-parameter updates). */
  private moments: (Moments | null)[];
  /** The params and both moments in flat buffers (updates of every parameter at once). */
  private flat: FlatParameters | null = null;
  /** Steps taken by each param (slot = param index), on the params' device. */
  private steps: Tensor | null = null;

  constructor(params: readonly Tensor[], options: AdamOptions = {}) {
    super(params, options.lr ?? 1e-3, options.foreach);
    const betas = options.betas ?? [0.9, 0.999];
    this.betas = [betas[0], betas[1]];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    checkAtLeast(this.name, 'betas[0]', this.betas[0], 0, 1);
    checkAtLeast(this.name, 'betas[1]', this.betas[1], 0, 1);
    checkAtLeast(this.name, 'eps', this.eps, 0);
    checkAtLeast(this.name, 'weightDecay', this.weightDecay, 0);
    this.moments = this.params.map(() => null);
  }

  override get name(): string {
    return 'Adam';
  }

  /** Whether the weight decay multiplies the parameter (AdamW) instead of joining the gradient. */
  protected get decoupled(): boolean {
    return false;
  }

  protected update(op: string, backend: Backend, active: readonly number[]): void {
    const steps = (this.steps ??= Tensor.adopt(zeros([this.params.length], { backend })));
    this.advanceSteps(op, backend, steps, active);
    const [beta1, beta2] = this.betas;
    const hyper = { lr: this.lr, beta1, beta2, eps: this.eps, weightDecay: this.weightDecay, decoupled: this.decoupled };
    if (this.foreach) {
      this.flat ??= new FlatParameters(this.name, this.params, ['exp_avg', 'exp_avg_sq']);
      this.flat.step(op, backend, {
        update: { kind: 'adam' },
        active: new Set(active),
        hyper: adamHyperValues(hyper),
        extra: { step_counts: steps.storageFor(op) },
        cpu: (d, i, extra) => adamReference(d.param, d.grad, d.exp_avg, d.exp_avg_sq, extra.step_counts[i], hyper),
      });
      return;
    }
    for (const i of active) {
      const param = this.params[i];
      const grad = param.grad!;
      const moments = (this.moments[i] ??= { expAvg: this.stateLike(param), expAvgSq: this.stateLike(param) });
      const n = param.size;
      if (n === 0) continue;
      runInPlace(
        op,
        backend,
        { param, grad, exp_avg: moments.expAvg, exp_avg_sq: moments.expAvgSq, step_counts: steps },
        adamProgram(n, { lr: this.lr, beta1, beta2, eps: this.eps, weightDecay: this.weightDecay, decoupled: this.decoupled }, i),
        (d) => adamReference(d.param, d.grad, d.exp_avg, d.exp_avg_sq, d.step_counts[i], hyper),
      );
    }
  }

  /**
   * Adds one to the step count of each active param, on the device: one dispatch per 256
   * params, whose mask uniform stays the same while the same params have gradients.
   */
  private advanceSteps(op: string, backend: Backend, steps: Tensor, active: readonly number[]): void {
    for (let first = 0; first < this.params.length; first += SLOTS_PER_ADVANCE) {
      const words = new Array<number>(8).fill(0);
      const slots = active.filter((i) => i >= first && i < first + SLOTS_PER_ADVANCE);
      if (slots.length === 0) continue;
      for (const i of slots) words[(i - first) >> 5] |= 1 << ((i - first) & 31);
      runInPlace(
        op,
        backend,
        { steps },
        advanceStepProgram(first, Math.min(SLOTS_PER_ADVANCE, this.params.length - first), words),
        (d) => advanceStepReference(d.steps, slots),
      );
    }
  }

  protected disposeState(): void {
    for (const m of this.moments) {
      m?.expAvg.dispose();
      m?.expAvgSq.dispose();
    }
    this.moments = this.moments.map(() => null);
    this.flat?.dispose();
    this.flat = null;
    this.steps?.dispose();
    this.steps = null;
  }
}

/**
 * AdamW, PyTorch's `torch.optim.AdamW`: Adam whose weight decay is decoupled from the
 * gradient, p ← p·(1 − lr·wd) before the Adam update; `weightDecay` defaults to 1e-2.
 */
export class AdamW extends Adam {
  constructor(params: readonly Tensor[], options: AdamOptions = {}) {
    super(params, { ...options, weightDecay: options.weightDecay ?? 1e-2 });
  }

  override get name(): string {
    return 'AdamW';
  }

  protected override get decoupled(): boolean {
    return true;
  }
}
