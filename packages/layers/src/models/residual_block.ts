import type { Tensor } from '@welford/core';
import { checkPositiveInt } from '../checks.ts';
import { Module } from '../module/module.ts';
import { convBias, normChoice, type NormChoice } from './norm_choice.ts';

/** Options of a residual block. */
export interface BlockOptions extends NormChoice {
  /** Stride of the block's strided convolution and its shortcut (default 1). */
  stride?: number;
}

/** What every residual block shares: its planes, stride, norm choice, and when the shortcut must project. */
export abstract class ResidualBlock extends Module {
  readonly inPlanes: number;
  readonly planes: number;
  /** Output channels: planes times the block's expansion. */
  readonly outPlanes: number;
  readonly stride: number;
  protected readonly choice: Required<NormChoice>;
  /** Whether the block's convolutions learn a bias (only without a norm after them). */
  protected readonly convBias: boolean;

  constructor(inPlanes: number, planes: number, expansion: number, options: BlockOptions) {
    super();
    const { stride = 1 } = options;
    checkPositiveInt(this.typeName, 'inPlanes', inPlanes);
    checkPositiveInt(this.typeName, 'planes', planes);
    checkPositiveInt(this.typeName, 'stride', stride);
    this.inPlanes = inPlanes;
    this.planes = planes;
    this.outPlanes = planes * expansion;
    this.stride = stride;
    this.choice = normChoice(options);
    this.convBias = convBias(this.choice);
  }

  /** The shortcut changes the shape (a strided or wider output), so it needs a 1×1 projection. */
  protected get projects(): boolean {
    return this.stride !== 1 || this.inPlanes !== this.outPlanes;
  }

  abstract override forward(x: Tensor): Tensor;

  override extraRepr(): string {
    return `${this.inPlanes}, ${this.planes}, stride=${this.stride}`;
  }
}
