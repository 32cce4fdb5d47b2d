import { flatten, shapeToString, type Tensor } from '@welford/core';
import { Module } from '../module/module.ts';

/**
 * Merges dimensions startDim..endDim (inclusive; negative counts from the end) into one
 * (`torch.nn.Flatten`). The defaults keep the batch dimension: [N, C, H, W] → [N, C·H·W].
 */
export class Flatten extends Module {
  static override readonly typeName = 'Flatten';
  readonly startDim: number;
  readonly endDim: number;

  constructor(startDim = 1, endDim = -1) {
    super();
    for (const [name, v] of [['startDim', startDim], ['endDim', endDim]] as const) {
      if (!Number.isInteger(v)) throw new Error(`Flatten: ${name} must be an integer, got ${String(v)}`);
    }
    this.startDim = startDim;
    this.endDim = endDim;
  }

  forward(x: Tensor): Tensor {
    const rank = Math.max(x.rank, 1);
    const inRange = (d: number) => d >= -rank && d < rank;
    if (!inRange(this.startDim) || !inRange(this.endDim)) {
      throw new Error(`Flatten: startDim=${this.startDim} and endDim=${this.endDim} need an input with at least ${Math.max(this.startDim + 1, -this.startDim, this.endDim + 1, -this.endDim)} dimensions, got input of shape ${shapeToString(x.shape)}`);
    }
    return flatten(x, this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}
