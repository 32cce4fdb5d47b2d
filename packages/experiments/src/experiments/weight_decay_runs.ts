// One training run of the weight-decay experiment: the digit CNN with batch norm, trained as a plan
// says, with the joint norm of its three convolutions' weights (each followed by batch norm, hence
// scale-invariant) read every few steps without holding training up, and its test accuracy.
import type { ClassificationDataset } from '@welford/data';
import type { ResultBuilder } from '../result_builder.ts';
import { digitCnn } from '../training/models.ts';
import { accuracyOn, optimizerFor, trainOn, type TrainPlan } from '../training/train.ts';
import { readJointNorm } from '../training/weight_norm.ts';

/** What a tracked run measured. */
export interface TrackedRun {
  /** [step, ‖W‖] in step order; step 0 is the initial weights. */
  norms: [number, number][];
  normStart: number;
  normEnd: number;
  accuracy: number;
  firstLoss: number | null;
  lastLoss: number | null;
}

/** How to run and observe one training. */
export interface TrackedSpec {
  plan: TrainPlan;
  /** Seeds the initial weights (the same for every run, so runs differ only in the optimizer). */
  seed: number;
  /** Read ‖W‖ every this many steps (and after the last). */
  every: number;
  /** Called with each ‖W‖ as it arrives (step 0 first; later ones while training goes on). */
  onNorm(step: number, norm: number): void;
}

/** Trains a fresh digit CNN (batch norm) on `train` and measures it on `test`; the model is freed at the end. */
export async function trainTracked(builder: ResultBuilder, train: ClassificationDataset, test: ClassificationDataset, spec: TrackedSpec): Promise<TrackedRun> {
  const model = digitCnn({ norm: 'batch', seed: spec.seed });
  // Made here rather than by trainOn, so that its state (momentum, moments) is freed with the model.
  const optimizer = optimizerFor(model.parameters(), spec.plan);
  const weights = model.convs.map((conv) => conv.weight);
  const steps = Math.ceil(spec.plan.samples / spec.plan.batchSize);
  const norms: [number, number][] = [];
  const pending: Promise<void>[] = [];
  const record = (step: number) => {
    // The norm is recorded now (before the next step updates the weights) and read when it is ready.
    pending.push(
      readJointNorm(weights).then((norm) => {
        norms.push([step, norm]);
        spec.onNorm(step, norm);
      }),
    );
  };
  try {
    record(0);
    await pending[0];
    const run = await trainOn(builder, model, train, {
      ...spec.plan,
      onStep: (info) => {
        if (info.step % spec.every === 0 || info.step === steps) record(info.step);
        spec.plan.onStep?.(info);
      },
    }, optimizer);
    await Promise.all(pending);
    const { accuracy } = await accuracyOn(builder, model, test);
    norms.sort((a, b) => a[0] - b[0]);
    return { norms, normStart: norms[0][1], normEnd: norms.at(-1)![1], accuracy, firstLoss: run.firstLoss, lastLoss: run.lastLoss };
  } finally {
    // Reads already started settle first, so that none reports after the run (or rejects unheard).
    await Promise.allSettled(pending);
    optimizer.dispose();
    model.dispose();
  }
}
