// Accuracy of a model in training mode, on small batches: what the network computes while it
// trains (batch norm with each batch's own statistics), to set against evaluation mode.
import { noGrad, tidy, type Tensor } from '@welford/core';
import type { ClassificationDataset } from '@welford/data';
import { Accuracy, type Module } from '@welford/layers';
import type { ResultBuilder } from '../result_builder.ts';
import { evalBatches } from './digits.ts';
import { saveRunningStatistics } from './running_statistics.ts';

/**
 * Top-1 accuracy of `model` in training mode on `test` in index order, `batchSize` digits at a
 * time, without gradients. A training-mode pass updates the running statistics, which a batch
 * renorm reads (through r and d): they are put back after every batch, so each batch sees what
 * training left and the model ends as it was (its mode too).
 */
export async function trainModeAccuracy(builder: ResultBuilder, model: Module<[Tensor], Tensor>, test: ClassificationDataset, batchSize: number): Promise<number> {
  builder.checkStopped();
  const wasTraining = model.training;
  const stored = await saveRunningStatistics(model);
  const accuracy = new Accuracy();
  model.train();
  try {
    for (const batch of evalBatches(test, batchSize)) {
      try {
        noGrad(() => tidy(() => accuracy.update(model.call(batch.x), batch.y)));
      } finally {
        batch.x.dispose();
        batch.y.dispose();
      }
      await stored.restore();
      builder.measured(1);
    }
    return await accuracy.compute();
  } finally {
    accuracy.dispose();
    model.train(wasTraining);
  }
}
