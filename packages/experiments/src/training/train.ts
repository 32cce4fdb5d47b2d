// One training run of an experiment: a model, a budget of samples at a batch size, an optimizer;
// then its accuracy on held-out digits. Every step counts in the result's `work`.
import { Adam, AdamW, SGD, type Optimizer, type Tensor } from '@welford/core';
import type { ClassificationDataset } from '@welford/data';
import { evaluate, fit, type LossReading, type Module, type StepInfo } from '@welford/layers';
import type { ResultBuilder } from '../result_builder.ts';
import { ExperimentAborted } from '../types.ts';
import { digitBatches, evalBatches } from './digits.ts';

export type OptimizerKind = 'sgd' | 'adam' | 'adamw';

/** What a training run consumes and how it learns. */
export interface TrainPlan {
  batchSize: number;
  /** Training samples to consume: ⌈samples / batchSize⌉ steps. */
  samples: number;
  lr: number;
  optimizer?: OptimizerKind;
  /** SGD momentum (default 0.9). */
  momentum?: number;
  /** L2 penalty (SGD, Adam) or decoupled decay (AdamW); default 0. */
  weightDecay?: number;
  /** Seed of the batch order. */
  seed: number;
  /** Read the loss every K steps (default: about 20 readings over the run). */
  readEvery?: number;
  onStep?: (info: StepInfo) => void;
}

/** What a run measured. */
export interface TrainRun {
  steps: number;
  samples: number;
  losses: LossReading[];
  /** Mean training loss of the first and last reading. */
  firstLoss: number | null;
  lastLoss: number | null;
}

/** The optimizer of a plan over `params`. */
export function optimizerFor(params: Tensor[], plan: Pick<TrainPlan, 'optimizer' | 'lr' | 'momentum' | 'weightDecay'>): Optimizer {
  const weightDecay = plan.weightDecay ?? 0;
  switch (plan.optimizer ?? 'sgd') {
    case 'sgd':
      return new SGD(params, { lr: plan.lr, momentum: plan.momentum ?? 0.9, weightDecay });
    case 'adam':
      return new Adam(params, { lr: plan.lr, weightDecay });
    case 'adamw':
      return new AdamW(params, { lr: plan.lr, weightDecay });
  }
}

/** Trains `model` on `train` as the plan says (in training mode); the steps count in `builder`'s work. */
export async function trainOn(builder: ResultBuilder, model: Module<[Tensor], Tensor>, train: ClassificationDataset, plan: TrainPlan, optimizer?: Optimizer): Promise<TrainRun> {
  builder.checkStopped();
  const steps = Math.ceil(plan.samples / plan.batchSize);
  const opt = optimizer ?? optimizerFor(model.parameters(), plan);
  const readEvery = plan.readEvery ?? Math.max(1, Math.floor(steps / 20));
  let samples = 0;
  // An optimizer made here holds state buffers (momentum, moments): free them when done.
  const owned = optimizer ? null : opt;
  const history = await fit(model, {
    train: () => digitBatches(train, plan.batchSize, steps, plan.seed),
    epochs: 1,
    optimizer: opt,
    readEvery,
    accuracy: false,
    signal: builder.signal,
    onStep: (info) => {
      samples += info.samples;
      // Counted step by step, so a live view shows training progress.
      builder.trained(1, info.samples);
      plan.onStep?.(info);
    },
  }).finally(() => owned?.dispose());
  if (history.aborted) throw new ExperimentAborted(builder.result.name);
  const losses = history.losses;
  return { steps: history.steps, samples, losses, firstLoss: losses[0]?.loss ?? null, lastLoss: losses.at(-1)?.loss ?? null };
}

/** Top-1 accuracy and mean loss of `model` (in evaluation mode) on `test`. */
export async function accuracyOn(builder: ResultBuilder, model: Module<[Tensor], Tensor>, test: ClassificationDataset): Promise<{ accuracy: number; loss: number }> {
  builder.checkStopped();
  const result = await evaluate(model, evalBatches(test));
  builder.measured(Math.ceil(test.length / 100));
  return { accuracy: result.accuracy ?? NaN, loss: result.loss ?? NaN };
}
