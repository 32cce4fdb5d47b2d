import { add, assign, mul, reshape, shapeToString, slice, type Tensor } from '@welford/core';
import { checkChannels, checkPositiveInt } from '../checks.ts';
import { Embedding } from '../layers/embedding.ts';
import { Module } from '../module/module.ts';
import { BatchNorm2d } from './batch_norm.ts';

export interface ConditionalBatchNormOptions {
  /** Added to the variance inside the square root (default 1e-5). */
  eps?: number;
  /** Weight of the new batch in the running averages (default 0.1; null: a cumulative average). */
  momentum?: number | null;
}

/**
 * Class-conditional batch normalization of (N, C, H, W) inputs, as in BigGAN/SNGAN generators:
 * y = γ[label]·BN(x) + β[label], where BN is a BatchNorm2d without affine (child `bn`, with the
 * usual batch and running statistics) and γ, β are the two halves of a row of the Embedding
 * child `embed` [numClasses, 2·C], initialised to γ = 1 and β = 0 so that training starts as
 * plain batch norm. `forward(x, labels)` takes labels as a float32 tensor [N] of integer class
 * indices in [0, numClasses).
 */
export class ConditionalBatchNorm2d extends Module<[Tensor, Tensor], Tensor> {
  static override readonly typeName = 'ConditionalBatchNorm2d';
  readonly numFeatures: number;
  readonly numClasses: number;
  readonly bn: BatchNorm2d;
  readonly embed: Embedding;

  constructor(numFeatures: number, numClasses: number, { eps = 1e-5, momentum = 0.1 }: ConditionalBatchNormOptions = {}) {
    super();
    checkPositiveInt('ConditionalBatchNorm2d', 'numFeatures', numFeatures);
    checkPositiveInt('ConditionalBatchNorm2d', 'numClasses', numClasses);
    this.numFeatures = numFeatures;
    this.numClasses = numClasses;
    this.bn = this.registerModule('bn', new BatchNorm2d(numFeatures, { eps, momentum, affine: false }));
    this.embed = this.registerModule('embed', new Embedding(numClasses, 2 * numFeatures));
    const rows = new Float32Array(numClasses * 2 * numFeatures);
    for (let k = 0; k < numClasses; k++) rows.fill(1, k * 2 * numFeatures, k * 2 * numFeatures + numFeatures);
    assign(this.embed.weight, rows);
  }

  forward(x: Tensor, labels: Tensor): Tensor {
    const c = this.numFeatures;
    checkChannels('ConditionalBatchNorm2d', x, [4], c);
    if (labels.rank !== 1 || labels.shape[0] !== x.shape[0]) {
      throw new Error(`ConditionalBatchNorm2d: expected labels of shape [${x.shape[0]}] (one class index per sample of input ${shapeToString(x.shape)}), got ${shapeToString(labels.shape)}`);
    }
    const n = x.shape[0];
    const normalized = this.bn.call(x);
    const rows = this.embed.call(labels);
    const gamma = reshape(slice(rows, [0, 0], [n, c]), [n, c, 1, 1]);
    const beta = reshape(slice(rows, [0, c], [n, c]), [n, c, 1, 1]);
    return add(mul(normalized, gamma), beta);
  }

  // eps and momentum show in the child `bn`.
  override extraRepr(): string {
    return `${this.numFeatures}, numClasses=${this.numClasses}`;
  }
}
