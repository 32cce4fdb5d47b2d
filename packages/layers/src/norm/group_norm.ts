import { groupNorm, ones, zeros, type Tensor } from '@welford/core';
import { checkChannels, checkPositiveInt } from '../checks.ts';
import { Module } from '../module/module.ts';
import { checkBoolean, checkEps, formatFloat, rejectFusedRelu } from './options.ts';

export interface GroupNormLayerOptions {
  /** Added to the variance inside the square root (default 1e-5). */
  eps?: number;
  /** Learn a per-channel scale `weight` (initially 1) and shift `bias` (initially 0) (default true). */
  affine?: boolean;
}

/**
 * Group normalization (`torch.nn.GroupNorm`): the C channels of an input (N, C, *) are split
 * into numGroups groups of consecutive channels, and each (sample, group) is normalized with its
 * own mean and biased variance, then scaled and shifted per channel. Independent of the batch
 * size, and the same in training and evaluation. numGroups 1 is a layer norm over (C, H, W)
 * with per-channel affine; numGroups C is an instance norm.
 */
export class GroupNorm extends Module {
  static override readonly typeName = 'GroupNorm';
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  readonly affine: boolean;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;

  constructor(numGroups: number, numChannels: number, options: GroupNormLayerOptions = {}) {
    super();
    rejectFusedRelu('GroupNorm', options);
    const { eps = 1e-5, affine = true } = options;
    checkPositiveInt('GroupNorm', 'numGroups', numGroups);
    checkPositiveInt('GroupNorm', 'numChannels', numChannels);
    if (numChannels % numGroups !== 0) {
      throw new Error(`GroupNorm: num_channels must be divisible by num_groups (numChannels=${numChannels}, numGroups=${numGroups})`);
    }
    checkEps('GroupNorm', eps);
    checkBoolean('GroupNorm', 'affine', affine);
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = eps;
    this.affine = affine;
    this.weight = this.registerParameter('weight', affine ? ones([numChannels]) : null);
    this.bias = this.registerParameter('bias', affine ? zeros([numChannels]) : null);
  }

  forward(x: Tensor): Tensor {
    checkChannels('GroupNorm', x, [2, 3, 4, 5], this.numChannels);
    return groupNorm(x, this.numGroups, { weight: this.weight ?? undefined, bias: this.bias ?? undefined, eps: this.eps });
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${formatFloat(this.eps)}, affine=${this.affine}`;
  }
}
