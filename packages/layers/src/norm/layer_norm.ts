import { layerNorm, ones, shapeToString, zeros, type Tensor } from '@welford/core';
import { checkPositiveInt } from '../checks.ts';
import { Module } from '../module/module.ts';
import { checkBoolean, checkEps, formatFloat, rejectFusedRelu } from './options.ts';

export interface LayerNormLayerOptions {
  /** Added to the variance inside the square root (default 1e-5). */
  eps?: number;
  /** Learn an elementwise `weight` (initially 1) and, with `bias`, a `bias` (initially 0) of the normalized shape (default true). */
  elementwiseAffine?: boolean;
  /** With elementwiseAffine, also learn the additive `bias` (default true). */
  bias?: boolean;
}

/**
 * Layer normalization (`torch.nn.LayerNorm`): the trailing dimensions of the input that equal
 * `normalizedShape` are normalized together, per index of the leading dimensions, with their
 * mean and biased variance; then y = γ·x̂ + β elementwise. Independent of the batch and the same
 * in training and evaluation.
 */
export class LayerNorm extends Module {
  static override readonly typeName = 'LayerNorm';
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;

  constructor(normalizedShape: number | readonly number[], options: LayerNormLayerOptions = {}) {
    super();
    rejectFusedRelu('LayerNorm', options);
    const { eps = 1e-5, elementwiseAffine = true, bias = true } = options;
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    if (shape.length === 0) throw new Error('LayerNorm: normalizedShape must have at least one dimension, got []');
    shape.forEach((d, i) => checkPositiveInt('LayerNorm', `normalizedShape[${i}]`, d));
    checkEps('LayerNorm', eps);
    checkBoolean('LayerNorm', 'elementwiseAffine', elementwiseAffine);
    checkBoolean('LayerNorm', 'bias', bias);
    this.normalizedShape = Object.freeze(shape);
    this.eps = eps;
    this.elementwiseAffine = elementwiseAffine;
    this.weight = this.registerParameter('weight', elementwiseAffine ? ones(shape) : null);
    this.bias = this.registerParameter('bias', elementwiseAffine && bias ? zeros(shape) : null);
  }

  forward(x: Tensor): Tensor {
    const shape = this.normalizedShape;
    const trailing = x.shape.slice(x.rank - shape.length);
    if (x.rank < shape.length || shape.some((d, i) => d !== trailing[i])) {
      throw new Error(`LayerNorm: expected input of shape [*, ${shape.join(', ')}] (normalizedShape=${shapeToString(shape)}), got ${shapeToString(x.shape)}`);
    }
    return layerNorm(x, shape, { weight: this.weight ?? undefined, bias: this.bias ?? undefined, eps: this.eps });
  }

  override extraRepr(): string {
    return `${shapeToString(this.normalizedShape)}, eps=${formatFloat(this.eps)}, elementwiseAffine=${this.elementwiseAffine}`;
  }
}
