import { Optimizer } from '@welford/core';

/**
 * One optimizer per data-parallel replica, driven as one: `lr` (which schedules set) goes to
 * every replica's optimizer, `step()` checks all of them before any updates (a failed step
 * changes no replica), and the replicas, whose gradients the all-reduce made equal, stay equal.
 * Its `params` are replica 0's. Made by `DataParallel.optimizer`.
 */
export class ReplicatedOptimizer extends Optimizer {
  override get name(): string {
    return this.inner ? `DataParallel(${this.inner[0].name})` : 'DataParallel';
  }

  constructor(readonly inner: readonly Optimizer[]) {
    super(inner[0].params, inner[0].lr);
  }

  override checkStep(): void {
    super.checkStep();
    for (const o of this.inner) o.checkStep();
  }

  override zeroGrad(): void {
    for (const o of this.inner) o.zeroGrad();
  }

  protected update(): void {
    for (const o of this.inner) o.checkStep();
    for (const o of this.inner) {
      o.lr = this.lr;
      o.step();
    }
  }

  protected disposeState(): void {
    for (const o of this.inner) o.dispose();
  }
}

