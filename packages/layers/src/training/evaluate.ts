import { getBackend, noGrad, tidy, type Tensor } from '@welford/core';
import type { AnyModule, Module } from '../module/module.ts';
import { defaultLoss, disposeBatch, targetsOf, type LossFn, type TrainingBatch } from './batch.ts';
import { readTogether } from './device_sum.ts';
import { Accuracy, Mean, MeanIoU } from './metrics.ts';
import { nextTask } from './next_task.ts';

/** What `evaluate` can measure. */
export type EvaluationMetric = 'loss' | 'accuracy' | 'miou';

/** Options of `evaluate`. */
export interface EvaluateOptions<B extends TrainingBatch = TrainingBatch> {
  /** Default ['loss', 'accuracy']. 'miou' needs masks and adds `miou` and `iou`. */
  metrics?: readonly EvaluationMetric[];
  /** The loss of a batch; default: cross-entropy on `batch.y`, or per pixel on `batch.mask`. */
  loss?: LossFn<B>;
  /** Dispose each batch's x, y and mask once used (default true, as `fit`). */
  disposeBatches?: boolean;
}

/** What `evaluate` returns: the metrics asked for, over every sample. */
export interface Evaluation {
  samples: number;
  /** Mean loss over samples (batch losses weighted by batch size). */
  loss?: number;
  /** Top-1 accuracy, or pixel accuracy for masks. */
  accuracy?: number;
  /** Mean IoU over the classes present in predictions or masks. */
  miou?: number;
  /** IoU per class (null: absent from both predictions and masks). */
  iou?: (number | null)[];
}

const METRICS: readonly EvaluationMetric[] = ['loss', 'accuracy', 'miou'];

/**
 * Runs `model` over `batches` in evaluation mode without recording gradients, accumulating the
 * metrics on the device and reading them back once at the end. Every module's previous mode is
 * restored afterwards, also when it throws.
 */
export async function evaluate<B extends TrainingBatch>(model: Module<[Tensor], Tensor>, batches: Iterable<B>, options: EvaluateOptions<B> = {}): Promise<Evaluation> {
  const metrics = options.metrics ?? ['loss', 'accuracy'];
  for (const m of metrics) if (!METRICS.includes(m)) throw new Error(`evaluate: unknown metric ${JSON.stringify(m)}; expected some of ${METRICS.join(', ')}`);
  if (batches === null || typeof (batches as Partial<Iterable<B>>)?.[Symbol.iterator] !== 'function') throw new Error(`evaluate: batches must be iterable, got ${String(batches)}`);
  const lossFn = options.loss ?? (defaultLoss as LossFn<B>);
  const disposeBatches = options.disposeBatches ?? true;
  const meanLoss = metrics.includes('loss') ? new Mean() : null;
  const accuracy = metrics.includes('accuracy') ? new Accuracy() : null;
  const iou = metrics.includes('miou') ? new MeanIoU() : null;
  const modes: [AnyModule, boolean][] = model.modules().map((m) => [m, m.training]);
  const backend = model.parameters()[0]?.backend ?? getBackend();
  let samples = 0;
  model.eval();
  try {
    for (const batch of batches) {
      try {
        const n = batch.x.rank > 0 ? batch.x.shape[0] : 1;
        noGrad(() =>
          tidy(() => {
            const output = model.call(batch.x);
            meanLoss?.update(lossFn(output, batch), n);
            const targets = targetsOf(batch);
            if ((accuracy || iou) && !targets) throw new Error('evaluate: accuracy and miou need batches with y or mask');
            accuracy?.update(output, targets!);
            if (iou) {
              if (!batch.mask) throw new Error('evaluate: miou needs batches with a mask');
              iou.update(output, batch.mask);
            }
          }),
        );
        samples += n;
        // Submit the batch's work so the device runs while the host prepares the next.
        backend.flush();
      } finally {
        if (disposeBatches) disposeBatch(batch);
      }
      await nextTask();
    }
    const [lossValues, accValues, iouValues] = await readAll([meanLoss, accuracy, iou]);
    const result: Evaluation = { samples };
    if (meanLoss) result.loss = meanLoss.fromValues(lossValues);
    if (accuracy) result.accuracy = accuracy.fromValues(accValues);
    if (iou) {
      const r = iou.fromValues(iouValues);
      result.miou = r.meanIoU;
      result.iou = r.perClass;
    }
    return result;
  } finally {
    for (const [m, training] of modes) m.training = training;
    meanLoss?.dispose();
    accuracy?.dispose();
    iou?.dispose();
  }
}

/** Every metric's accumulators in one readback, split back per metric. */
async function readAll(metrics: readonly ({ tensors: readonly (Tensor | null)[] } | null)[]): Promise<Float32Array[][]> {
  const all = metrics.flatMap((m) => m?.tensors ?? []);
  const values = await readTogether(all);
  let at = 0;
  return metrics.map((m) => {
    const n = m?.tensors.length ?? 0;
    const part = values.slice(at, at + n);
    at += n;
    return part;
  });
}
