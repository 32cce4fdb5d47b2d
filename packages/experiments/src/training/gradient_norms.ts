// How strongly the loss reaches a layer: ‖∂L/∂W‖₂ of chosen weights on one batch, at the weights
// as they are. Comparing the first layer's with the last one's through depth shows whether a
// network's gradients vanish or grow on the way down.
import { crossEntropy, shapeToString, tidy, type Tensor } from '@welford/core';
import type { ClassificationBatch } from '@welford/data';
import { readTogether, type Module } from '@welford/layers';
import { jointNorm } from './weight_norm.ts';

/**
 * The 2-norm of the gradient of `model`'s cross-entropy on `batch` with respect to each of
 * `weights`, in the model's current mode (training mode: batch norm's batch statistics, and a
 * running-statistics update the caller may want to undo). The gradients are cleared before and after.
 */
export async function gradientNorms(model: Module<[Tensor], Tensor>, weights: readonly Tensor[], batch: ClassificationBatch): Promise<number[]> {
  model.zeroGrad();
  try {
    const norms = tidy(() => {
      crossEntropy(model.call(batch.x), batch.y).backward();
      return weights.map((w, i) => {
        if (!w.grad) throw new Error(`gradientNorms: weights[${i}] (shape ${shapeToString(w.shape)}) got no gradient from the loss; is it a parameter of the model?`);
        return jointNorm([w.grad]);
      });
    });
    try {
      return (await readTogether(norms)).map((values) => values[0]);
    } finally {
      for (const n of norms) n.dispose();
    }
  } finally {
    model.zeroGrad();
  }
}
