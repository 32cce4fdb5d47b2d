import type { Backend } from '../backend/backend.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { relay } from './exchange.ts';

/**
 * A copy of `x` on `target` (another device). WebGPU devices share no memory, so the values go
 * through the host (see relay): nothing waits while recording, and work on `target` recorded
 * after this call runs once they are there. On x's own backend it returns a new handle to x's
 * storage. Not differentiable.
 */
export function toDevice(x: Tensor, target: Backend): Tensor {
  if (x.backendFor('toDevice') === target) return x.view(x.shape);
  return relay('toDevice', x, target, [x.shape], (values) => [values])[0];
}
