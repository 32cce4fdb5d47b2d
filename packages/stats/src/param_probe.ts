import { affine, keep, noGrad, square, sub, sum, tidy, type Tensor } from '@welford/core';
import type { ReadbackBatch } from './readback.ts';
import type { ParamRecord } from './record.ts';

// Parameter statistics on a read step: sums of squares on the GPU (norms are their square
// roots, taken on the host). Keys in the batch are `param:<name>:<what>`.

const key = (name: string, what: string): string => `param:${name}:${what}`;

const sumOfSquares = (t: Tensor): Tensor => sum(square(t));

/**
 * The parameters' side of a read step: gradient norms and copies of the weights before the
 * optimizer step, then the size of the update after it.
 */
export class ParamProbe {
  private copies = new Map<string, Tensor>();

  constructor(private readonly params: readonly [string, Tensor][]) {}

  /** Gradient norms, and copies of the weights the optimizer is about to change. */
  beforeStep(batch: ReadbackBatch): void {
    this.disposeCopies();
    tidy(() =>
      noGrad(() => {
        for (const [name, p] of this.params) {
          this.gradient(batch, name, p);
          this.copies.set(name, keep(affine(p, 1, 0)));
        }
      }),
    );
  }

  /** ‖Δw‖² of the step just taken, from the copies `beforeStep` made. */
  afterStep(batch: ReadbackBatch): void {
    tidy(() =>
      noGrad(() => {
        for (const [name, p] of this.params) {
          const before = this.copies.get(name);
          if (before && !batch.has(key(name, 'dw'))) batch.own(key(name, 'dw'), sumOfSquares(sub(p, before)));
        }
      }),
    );
    this.disposeCopies();
  }

  /** Closes the step: weight norms, and gradient norms `beforeStep` did not take. */
  close(batch: ReadbackBatch): void {
    this.disposeCopies();
    tidy(() =>
      noGrad(() => {
        for (const [name, p] of this.params) {
          this.gradient(batch, name, p);
          batch.own(key(name, 'w'), sumOfSquares(p));
        }
      }),
    );
  }

  disposeCopies(): void {
    for (const t of this.copies.values()) t.dispose();
    this.copies.clear();
  }

  private gradient(batch: ReadbackBatch, name: string, p: Tensor): void {
    if (p.grad && !p.grad.isDisposed && !batch.has(key(name, 'grad'))) batch.own(key(name, 'grad'), sumOfSquares(p.grad));
  }
}

/** The parameter's record from the values read back. */
export function paramRecord(values: Map<string, Float32Array>, name: string): ParamRecord {
  const norm = (what: string): number | null => {
    const v = values.get(key(name, what));
    return v ? Math.sqrt(v[0]) : null;
  };
  const updateNorm = norm('dw');
  const weightNorm = norm('w') ?? Number.NaN;
  return {
    gradNorm: norm('grad'),
    weightNorm,
    updateNorm,
    updateRatio: updateNorm !== null && weightNorm > 0 ? updateNorm / weightNorm : null,
  };
}
