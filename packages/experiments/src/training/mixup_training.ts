// Training on Mixup batches: the plan's batches of normalized digits, each mixed with a random
// permutation of itself by @welford/data's `mixup` (one λ ~ Beta(α, α) per batch) and scored with
// `mixupLoss`. The same budget and bookkeeping as `trainOn`, so a run with Mixup and one without
// differ only in the batches.
import { Random, type Optimizer, type Tensor } from '@welford/core';
import { mixup, mixupLoss, type ClassificationDataset } from '@welford/data';
import { fit, type Module, type TrainingBatch } from '@welford/layers';
import type { ResultBuilder } from '../result_builder.ts';
import { ExperimentAborted } from '../types.ts';
import { digitBatches } from './digits.ts';
import { optimizerFor, type TrainPlan, type TrainRun } from './train.ts';

/** A mixed batch as `fit` passes it to the loss: x mixed, y the own labels, yB the partners'. */
interface MixedBatch extends TrainingBatch {
  x: Tensor;
  y: Tensor;
  yB: Tensor;
  lambda: number;
}

/** The plan's batches, mixed. Frees what it made once the step that used it is over. */
function* mixedBatches(train: ClassificationDataset, plan: TrainPlan, steps: number, alpha: number, rng: Random): Generator<MixedBatch> {
  let lastPartners: Tensor | null = null;
  try {
    for (const batch of digitBatches(train, plan.batchSize, steps, plan.seed)) {
      const mixed = mixup(batch, alpha, rng);
      // mixed.yA is a view of batch.y: the labels live on while fit holds it.
      batch.x.dispose();
      batch.y.dispose();
      // fit asks for the next batch after the step that used the last one has been recorded.
      lastPartners?.dispose();
      lastPartners = mixed.yB;
      yield { x: mixed.x, y: mixed.yA, yB: mixed.yB, lambda: mixed.lambda };
    }
  } finally {
    lastPartners?.dispose();
  }
}

/**
 * Trains `model` on Mixup batches with Beta(`alpha`, `alpha`) mixing weights, as `trainOn` trains on
 * plain ones (the λ and partners drawn from a generator seeded by the plan's seed). The steps count
 * in `builder`'s work. An optimizer made here is freed at the end; one passed in stays the caller's.
 */
export async function trainWithMixup(builder: ResultBuilder, model: Module<[Tensor], Tensor>, train: ClassificationDataset, plan: TrainPlan, alpha: number, optimizer?: Optimizer): Promise<TrainRun> {
  builder.checkStopped();
  const steps = Math.ceil(plan.samples / plan.batchSize);
  const opt = optimizer ?? optimizerFor(model.parameters(), plan);
  const rng = new Random(plan.seed * 1_000_003 + 17);
  const readEvery = plan.readEvery ?? Math.max(1, Math.floor(steps / 20));
  let samples = 0;
  try {
    const history = await fit<MixedBatch>(model, {
      train: () => mixedBatches(train, plan, steps, alpha, rng),
      epochs: 1,
      optimizer: opt,
      loss: (logits, batch) => mixupLoss(logits, batch.y, batch.yB, batch.lambda),
      readEvery,
      accuracy: false,
      signal: builder.signal,
      onStep: (info) => {
        samples += info.samples;
        plan.onStep?.(info);
      },
    });
    builder.trained(history.steps, samples);
    if (history.aborted) throw new ExperimentAborted(builder.result.name);
    const losses = history.losses;
    return { steps: history.steps, samples, losses, firstLoss: losses[0]?.loss ?? null, lastLoss: losses.at(-1)?.loss ?? null };
  } finally {
    if (!optimizer) opt.dispose();
  }
}
