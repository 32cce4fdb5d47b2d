import { allReduceSum, concat, narrow, noGrad, reshape, Tensor, zerosLike, type ProcessGroup } from '@welford/core';
import type { AnyModule } from '../module/module.ts';

/**
 * Sums every gradient of `model` (zeros where a parameter has none) and this replica's `loss`
 * across the replicas of `group`, in one all-reduce over a single flat buffer, and puts the sums
 * back as the parameters' gradients; returns the summed loss (0-d). What each replica of a
 * data-parallel run calls after its backward, in the same order on every replica (DataParallel
 * does it for replicas in one thread; a replica in its own worker calls it itself). Give each
 * replica the loss of its samples divided by the global batch size, so that the sums are the
 * whole batch's gradient.
 */
export function allReduceGradients(model: AnyModule, group: ProcessGroup, loss: Tensor): Tensor {
  return noGrad(() => {
    const params = model.parameters().filter((p) => p.requiresGrad);
    const flat = concat([...params.map((p) => reshape(p.grad ?? zerosLike(p), [-1])), reshape(loss, [1])]);
    const summed = allReduceSum(flat, group);
    let offset = 0;
    for (const p of params) {
      const grad = reshape(narrow(summed, 0, offset, p.size), p.shape);
      offset += p.size;
      p.grad?.dispose();
      p.grad = Tensor.adopt(grad);
    }
    return reshape(narrow(summed, 0, offset, 1), []);
  });
}
