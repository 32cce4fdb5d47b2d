import { linear, shapeToString, type Tensor } from '@welford/core';
import { defaultBias, defaultWeight } from '../init.ts';
import { WeightedLayer } from './weighted.ts';
import { checkPositiveInt } from '../checks.ts';

export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

/** y = x Wᵀ + b over the last dimension (`torch.nn.Linear`); weight [out, in], PyTorch's default initialisation. */
export class Linear extends WeightedLayer {
  static override readonly typeName = 'Linear';
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, { bias = true }: LinearOptions = {}) {
    super();
    checkPositiveInt('Linear', 'inFeatures', inFeatures);
    checkPositiveInt('Linear', 'outFeatures', outFeatures);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = this.registerParameter('weight', defaultWeight([outFeatures, inFeatures]));
    this.bias = this.registerParameter('bias', bias ? defaultBias(outFeatures, [outFeatures, inFeatures]) : null);
  }

  forward(x: Tensor): Tensor {
    if (x.rank < 1 || x.shape[x.rank - 1] !== this.inFeatures) {
      throw new Error(`Linear: expected input of shape [..., ${this.inFeatures}] (last dimension inFeatures=${this.inFeatures}), got ${shapeToString(x.shape)}`);
    }
    return linear(x, this.effectiveWeight(), this.bias ?? undefined);
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
