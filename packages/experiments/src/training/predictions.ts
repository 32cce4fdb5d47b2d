// What a trained classifier's predictions say on a set of digits: top-1 accuracy and mean
// confidence (the largest softmax probability), both accumulated on the device and read back
// once. Evaluation mode by default; batch norm can instead normalize each batch by its own
// statistics, which separates "the running statistics do not fit" from "the network is poor".
import { getBackend, max, mean, noGrad, softmax, tidy, type Tensor } from '@welford/core';
import type { ClassificationDataset } from '@welford/data';
import { Accuracy, Mean, readTogether, type Module } from '@welford/layers';
import type { ResultBuilder } from '../result_builder.ts';
import { evalBatches } from './digits.ts';

/** Options of `predictionsOn`. */
export interface PredictionOptions {
  /** Samples per forward pass (default 100). */
  batchSize?: number;
  /**
   * Run the model in training mode (without gradients), so that batch norm uses each batch's own
   * statistics. This also moves batch norm's running statistics: measure evaluation mode first.
   */
  batchStatistics?: boolean;
}

/** Accuracy and confidence of a model's predictions. */
export interface Predictions {
  /** Top-1 accuracy in [0, 1]. */
  accuracy: number;
  /** Mean over samples of the largest softmax probability, in [1/classes, 1]. */
  confidence: number;
  samples: number;
}

/** Runs `model` over `dataset` (normalized digits, in index order) and measures its predictions; modes are restored after. */
export async function predictionsOn(builder: ResultBuilder, model: Module<[Tensor], Tensor>, dataset: ClassificationDataset, options: PredictionOptions = {}): Promise<Predictions> {
  builder.checkStopped();
  const { batchSize = 100, batchStatistics = false } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`predictionsOn: batchSize must be a positive integer, got ${String(batchSize)}`);
  const confidence = new Mean();
  const accuracy = new Accuracy();
  const modes = model.modules().map((m) => [m, m.training] as const);
  const backend = model.parameters()[0]?.backend ?? getBackend();
  if (batchStatistics) model.train();
  else model.eval();
  try {
    for (const batch of evalBatches(dataset, batchSize)) {
      try {
        const n = batch.x.shape[0];
        noGrad(() =>
          tidy(() => {
            const logits = model.call(batch.x);
            confidence.update(mean(max(softmax(logits, 1), 1)), n);
            accuracy.update(logits, batch.y);
          }),
        );
        builder.measured();
        backend.flush();
      } finally {
        batch.x.dispose();
        batch.y.dispose();
      }
      // Let the page breathe between batches (the playground draws while this runs).
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const [conf, acc] = await readTogether([...confidence.tensors, ...accuracy.tensors]);
    return { accuracy: accuracy.fromValues([acc]), confidence: confidence.fromValues([conf]), samples: accuracy.count };
  } finally {
    for (const [m, training] of modes) m.training = training;
    confidence.dispose();
    accuracy.dispose();
  }
}
