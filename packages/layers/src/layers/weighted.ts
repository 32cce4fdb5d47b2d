import type { Tensor } from '@welford/core';
import { Module } from '../module/module.ts';

/**
 * A layer with a `weight` parameter that a wrapper may recompute each forward (spectral
 * normalization divides it by its largest singular value). Forward passes use
 * `effectiveWeight()`, never the parameter directly.
 */
export abstract class WeightedLayer extends Module {
  private weightTransform: ((layer: WeightedLayer) => Tensor) | null = null;

  /** The weight tensor the layer was built with (under spectral norm: the unnormalized `weightOrig`). */
  abstract readonly weight: Tensor;

  /** Where dimension "output" of the weight is: 0 for Linear and Conv2d, 1 for ConvTranspose2d. */
  get outputDim(): number {
    return 0;
  }

  /** Replaces how forward obtains the weight; null restores the plain parameter. */
  setWeightTransform(transform: ((layer: WeightedLayer) => Tensor) | null): void {
    this.weightTransform = transform;
  }

  get hasWeightTransform(): boolean {
    return this.weightTransform !== null;
  }

  /** The weight forward should use now. */
  protected effectiveWeight(): Tensor {
    return this.weightTransform ? this.weightTransform(this) : this.weight;
  }
}
