import { backward } from './backward.ts';
import { Tensor } from '../tensor/tensor.ts';

declare module '../tensor/tensor.ts' {
  interface Tensor {
    /**
     * Accumulates d(this)/d(leaf) into `.grad` of every leaf with `requiresGrad`.
     * `grad` is the upstream gradient; it may be left out for a one-element tensor.
     */
    backward(grad?: Tensor): void;
  }
}

Tensor.prototype.backward = function (this: Tensor, grad?: Tensor): void {
  backward(this, grad);
};
