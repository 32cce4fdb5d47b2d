import type { Tensor } from '../tensor/tensor.ts';
import { getBackend } from '../tensor/engine.ts';
import { withGrad, type CreationOptions } from '../tensor/creation.ts';
import type { Shape } from '../util/shape.ts';
import { full } from './elementwise.ts';

// Tensors of one value, filled on the device by the `fill` op (no host array of their size).

export function zeros(shape: Shape, options: CreationOptions = {}): Tensor {
  return withGrad(full(shape, 0, options.backend ?? getBackend()), options);
}

export function ones(shape: Shape, options: CreationOptions = {}): Tensor {
  return withGrad(full(shape, 1, options.backend ?? getBackend()), options);
}

export function zerosLike(t: Tensor): Tensor {
  return full(t.shape, 0, t.backend);
}

export function onesLike(t: Tensor): Tensor {
  return full(t.shape, 1, t.backend);
}
