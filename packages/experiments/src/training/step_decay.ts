// Training whose learning rate drops tenfold for its last quarter: the weights then move little
// over the last dozens of steps, so the running statistics (an exponential moving average over
// roughly the last 1/momentum batches) describe the final weights instead of lagging behind them.
import type { Tensor } from '@welford/core';
import { deriveSeed, type ClassificationDataset } from '@welford/data';
import type { Module } from '@welford/layers';
import type { ResultBuilder } from '../result_builder.ts';
import { optimizerFor, trainOn, type TrainPlan, type TrainRun } from './train.ts';

/** Share of the steps taken at the full learning rate. */
const FULL_RATE_SHARE = 0.75;
/** What the learning rate is divided by for the remaining steps. */
const DECAY = 10;

/**
 * Trains as `trainOn` would for ⌈samples / batchSize⌉ steps in all, the first three quarters
 * of them at `plan.lr` and the rest at a tenth of it (one optimizer throughout, so Adam's
 * moments and SGD's momentum carry over; its state is freed at the end). The two parts draw
 * their batch orders from different seeds. Returns the losses of both parts, their steps
 * numbered over the whole run.
 */
export async function trainWithStepDecay(builder: ResultBuilder, model: Module<[Tensor], Tensor>, train: ClassificationDataset, plan: TrainPlan): Promise<TrainRun> {
  const steps = Math.ceil(plan.samples / plan.batchSize);
  const fullRateSteps = Math.max(1, Math.round(steps * FULL_RATE_SHARE));
  const optimizer = optimizerFor(model.parameters(), plan);
  try {
    const first = await trainOn(builder, model, train, { ...plan, samples: fullRateSteps * plan.batchSize }, optimizer);
    if (steps === fullRateSteps) return first;
    optimizer.lr = plan.lr / DECAY;
    const rest = plan.samples - fullRateSteps * plan.batchSize;
    const second = await trainOn(builder, model, train, { ...plan, samples: rest, seed: deriveSeed(plan.seed, 1) }, optimizer);
    const losses = [...first.losses, ...second.losses.map((r) => ({ ...r, step: r.step + first.steps }))];
    return { steps: first.steps + second.steps, samples: first.samples + second.samples, losses, firstLoss: first.firstLoss, lastLoss: second.lastLoss };
  } finally {
    optimizer.dispose();
  }
}
