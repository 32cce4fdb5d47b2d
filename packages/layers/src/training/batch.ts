import { crossEntropy, permute, reshape, shapeToString, type Tensor } from '@welford/core';

/**
 * What the training loop takes from a data source: inputs `x` and either class labels `y`
 * ([N], classification) or a mask ([N, H, W], segmentation) of class ids stored as floats —
 * the shape of `@welford/data`'s DataLoader batches. Other fields are passed through to a
 * custom loss untouched.
 */
export interface TrainingBatch {
  x: Tensor;
  y?: Tensor;
  mask?: Tensor;
}

/** A loss from the model's output and the batch it came from (a 0-d tensor). */
export type LossFn<B extends TrainingBatch = TrainingBatch> = (output: Tensor, batch: B) => Tensor;

/**
 * Cross-entropy averaged over every pixel: logits [N, K, H, W] (any rank ≥ 2, classes on axis 1)
 * against class ids [N, H, W], as torch.nn.functional.cross_entropy with reduction 'mean'.
 */
export function pixelCrossEntropy(logits: Tensor, target: Tensor): Tensor {
  const want = logits.shape.filter((_, i) => i !== 1);
  if (logits.rank < 2 || shapeToString(target.shape) !== shapeToString(want)) {
    throw new Error(`pixelCrossEntropy: expected logits [N, K, ...] and targets of shape ${logits.rank < 2 ? '[N, ...]' : shapeToString(want)}, got logits ${shapeToString(logits.shape)} and targets ${shapeToString(target.shape)}`);
  }
  if (logits.rank === 2) return crossEntropy(logits, target);
  const k = logits.shape[1];
  // Classes last, then one row per pixel: what crossEntropy takes.
  const order = [0, ...logits.shape.map((_, i) => i).slice(2), 1];
  return crossEntropy(reshape(permute(logits, order), [-1, k]), reshape(target, [-1]));
}

/**
 * The default loss of `fit` and `evaluate`: cross-entropy on `batch.y`, or per-pixel
 * cross-entropy on `batch.mask`.
 */
export function defaultLoss(output: Tensor, batch: TrainingBatch): Tensor {
  if (batch.y) return crossEntropy(output, batch.y);
  if (batch.mask) return pixelCrossEntropy(output, batch.mask);
  throw new Error('fit: a batch has neither y (labels) nor mask; pass a loss function');
}

/** The labels a batch is scored against: `y`, else `mask`, else null. */
export function targetsOf(batch: TrainingBatch): Tensor | null {
  return batch.y ?? batch.mask ?? null;
}

/** Disposes the tensors a batch holds (x, y, mask). */
export function disposeBatch(batch: TrainingBatch): void {
  batch.x.dispose();
  batch.y?.dispose();
  batch.mask?.dispose();
}
