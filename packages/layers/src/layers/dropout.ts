import { dropout, type Tensor } from '@welford/core';
import { checkNumber } from '../checks.ts';
import { Module } from '../module/module.ts';

/**
 * Zeroes each element with probability `p` in training mode and scales the rest by 1 / (1 − p)
 * (`torch.nn.Dropout`); in evaluation mode returns its input itself. Each call draws a new
 * mask from the global generator, so `manualSeed` makes training reproducible.
 */
export class Dropout extends Module {
  static override readonly typeName = 'Dropout';
  readonly p: number;

  constructor(p = 0.5) {
    super();
    checkNumber('Dropout', 'p', p, 0, 1);
    this.p = p;
  }

  forward(x: Tensor): Tensor {
    return this.training ? dropout(x, this.p) : x;
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}
