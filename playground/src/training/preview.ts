// The prediction grid's numbers: the model in evaluation mode on a fixed batch of test images.
import { noGrad, softmax, tidy, type Tensor } from '@welford/core';
import { argmax, type Module } from '@welford/layers';

/** What the grid draws for each image. */
export type Predictions =
  | { kind: 'labels'; step: number; predicted: number[]; confidence: number[] }
  /** Per image, the H·W predicted class ids. */
  | { kind: 'masks'; step: number; masks: Uint8Array[] };

/**
 * Runs `model` on `x` in evaluation mode (running statistics, no gradient) and reads back the
 * predicted class and its probability per image, or the predicted mask per image (classes on
 * axis 1 of [N, K, H, W] logits). The modules' modes are restored afterwards.
 */
export async function predict(model: Module<[Tensor], Tensor>, x: Tensor, segmentation: boolean, step: number): Promise<Predictions> {
  const modes = model.modules().map((m) => [m, m.training] as const);
  model.eval();
  let out: Tensor;
  try {
    out = noGrad(() => tidy(() => (segmentation ? argmax(model.call(x), 1) : softmax(model.call(x), 1))));
  } finally {
    for (const [m, training] of modes) m.training = training;
  }
  let values: Float32Array;
  try {
    values = await out.toArray();
  } finally {
    out.dispose();
  }
  const n = out.shape[0];
  const per = values.length / n;
  if (segmentation) {
    return { kind: 'masks', step, masks: Array.from({ length: n }, (_, i) => Uint8Array.from(values.subarray(i * per, (i + 1) * per))) };
  }
  const predicted: number[] = [];
  const confidence: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = values.subarray(i * per, (i + 1) * per);
    let best = 0;
    for (let k = 1; k < per; k++) if (row[k] > row[best]) best = k;
    predicted.push(best);
    confidence.push(row[best]);
  }
  return { kind: 'labels', step, predicted, confidence };
}
