import { clipGradNorm, Optimizer, shapeToString, tidy, type Tensor } from '@welford/core';
import type { Module } from '../module/module.ts';
import { DataParallel } from '../parallel/data_parallel.ts';
import { defaultLoss, disposeBatch, targetsOf, type LossFn, type TrainingBatch } from './batch.ts';
import { readTogether } from './device_sum.ts';
import { LossReader, type LossReading } from './loss_reader.ts';
import { Accuracy, Mean } from './metrics.ts';
import { nextTask } from './next_task.ts';
import { NonFiniteLossError, type NonFiniteInfo } from './non_finite.ts';

/** Passed to `onStep` after each optimizer step (nothing in it is read from the device). */
export interface StepInfo {
  /** The epoch (0 is the first). */
  epoch: number;
  /** The optimizer step (1 is the first step of this `fit`). */
  step: number;
  /** The batch's index in its epoch (0 is the first). */
  batch: number;
  /** The learning rate this step used (before a per-batch schedule moved it). */
  lr: number;
  /** Samples in the batch (`x.shape[0]`). */
  samples: number;
}

/** One epoch of training, read back when the epoch ends. */
export interface EpochResult {
  epoch: number;
  /** Mean training loss over the epoch's samples (batch losses weighted by batch size). */
  loss: number;
  /** Training top-1 accuracy (pixel accuracy for masks) from the logits of each step; null without targets or with `accuracy: false`. */
  accuracy: number | null;
  /** The learning rate of the epoch's last step. */
  lr: number;
  steps: number;
  samples: number;
}

/** What `fit` returns. */
export interface FitHistory {
  epochs: EpochResult[];
  /** The step losses read (every `readEvery` steps), in step order. */
  losses: LossReading[];
  /** Optimizer steps taken. */
  steps: number;
  /** True when `signal` stopped training (the partial epoch is in `epochs`). */
  aborted: boolean;
}

/** Options of `fit`. */
export interface FitOptions<B extends TrainingBatch = TrainingBatch> {
  /**
   * The training batches: anything iterable once per epoch (an array, a `DataLoader`, whose each
   * `for...of` runs the next epoch), or a function giving epoch e's batches.
   */
  train: Iterable<B> | ((epoch: number) => Iterable<B>);
  /** Passes over `train` (a positive integer). */
  epochs: number;
  optimizer: Optimizer;
  /** The loss of a batch (0-d); default: cross-entropy on `batch.y`, or per pixel on `batch.mask`. */
  loss?: LossFn<B>;
  /** A learning-rate schedule (e.g. core's StepLR), stepped as `schedulerStep` says. */
  scheduler?: { step(): void };
  /** Step the schedule after every batch or after every epoch (default 'epoch'). */
  schedulerStep?: 'batch' | 'epoch';
  /** Clips the gradients' 2-norm to this before each optimizer step (on the device). */
  clipGradNorm?: number;
  /**
   * Read the loss every K steps (default 10; 0: only the epoch means). Reads are asynchronous:
   * a step starts the copy and goes on; at most two are in flight, so the host runs at most
   * about 2·K steps ahead of the device.
   */
  readEvery?: number;
  /** Accumulate training accuracy from each step's logits (default true; batches without y or mask are skipped). */
  accuracy?: boolean;
  /** Dispose each batch's x, y and mask after its step (default true: `fit` owns the batches it takes). */
  disposeBatches?: boolean;
  onStep?: (info: StepInfo) => void;
  /**
   * Called in each step, after the optimizer step, with the model's output for the whole batch
   * (gathered on replica 0's device for a DataParallel) and the batch, e.g. to accumulate
   * metrics; the tensors are freed when the step ends.
   */
  onOutput?: (output: Tensor, batch: B) => void;
  /** Called when a step loss read back arrives. */
  onLoss?: (reading: LossReading) => void;
  /** Called with each epoch's result; `fit` awaits it (a place to run `evaluate`). */
  onEpoch?: (result: EpochResult) => void | Promise<void>;
  /** Called before `NonFiniteLossError` is thrown; a string returned is added to its message (e.g. the layer that went non-finite). */
  onNonFinite?: (info: NonFiniteInfo) => string | void | Promise<string | void>;
  /** Stops training before the next step; `fit` then returns the history so far. */
  signal?: AbortSignal;
}

/**
 * Trains `model` (PyTorch's usual loop, Keras's convenience). Per batch, inside one `tidy`:
 * zero the gradients, forward in training mode, loss, backward, optional clipping, optimizer
 * step; loss and accuracy sums stay on the device and are read once per epoch, and the step
 * loss every `readEvery` steps without waiting for it. A NaN or infinite loss, when read, stops
 * training with `NonFiniteLossError`.
 *
 * Ownership: with `disposeBatches` (the default) `fit` disposes every batch's x, y and mask after
 * its step, also when it throws, so pass fresh batches each epoch (a DataLoader or a function
 * that makes them); pass `disposeBatches: false` to reuse tensors you own. The model stays in
 * training mode and the last step's gradients stay on the parameters, as after a PyTorch loop.
 *
 * Repeatable runs: `manualSeed(s)` before building the model (initial weights, dropout seeds)
 * and a DataLoader with a seed give the same batches and the same updates on the same device.
 *
 * Data-parallel: pass a `DataParallel` and its `optimizer(...)`; each batch is split across the
 * replicas (see `DataParallel.forwardBackward`), gradients are clipped per replica after the
 * all-reduce, and the loss and accuracy are those of the whole batch.
 */
export async function fit<B extends TrainingBatch>(model: Module<[Tensor], Tensor> | DataParallel, options: FitOptions<B>): Promise<FitHistory> {
  const settings = checkFitOptions(model, options);
  const { optimizer, scheduler, signal } = options;
  const reader = new LossReader(options.onLoss);
  const history: FitHistory = { epochs: [], losses: reader.readings, steps: 0, aborted: false };
  const backend = optimizer.params[0].backend;
  const flush = model instanceof DataParallel ? () => model.flush() : () => backend.flush();
  model.train();
  for (let epoch = 0; epoch < options.epochs && !history.aborted; epoch++) {
    const meanLoss = new Mean();
    const accuracy = new Accuracy();
    const firstStep = history.steps + 1;
    let samples = 0;
    let lr = optimizer.lr;
    try {
      for (const batch of batchesOf(options.train, epoch)) {
        try {
          if (signal?.aborted) {
            history.aborted = true;
            break;
          }
          const step = ++history.steps;
          const read = settings.readEvery > 0 && step % settings.readEvery === 0;
          if (read) await reader.room();
          lr = optimizer.lr;
          const n = batch.x.rank > 0 ? batch.x.shape[0] : 1;
          const loss = tidy(() => trainStep(model, batch, n, settings, meanLoss, settings.accuracy ? accuracy : null, read));
          // Submit the step now, so the device works while the host prepares the next one.
          flush();
          if (loss) reader.start(step, epoch, loss);
          samples += n;
          if (scheduler && settings.schedulerStep === 'batch') scheduler.step();
          options.onStep?.({ epoch, step, batch: step - firstStep, lr, samples: n });
        } finally {
          if (settings.disposeBatches) disposeBatch(batch);
        }
        await nextTask();
        await throwIfNonFinite(reader, options.onNonFinite);
        // Checked here too, so that no further batch is made once the signal has fired.
        if (signal?.aborted) {
          history.aborted = true;
          break;
        }
      }
      await reader.drain();
      await throwIfNonFinite(reader, options.onNonFinite);
      const steps = history.steps - firstStep + 1;
      if (steps === 0) {
        if (history.aborted) break;
        throw new Error(`fit: epoch ${epoch} got no batches (an iterator runs once only: pass an array, a DataLoader or a function (epoch) => batches)`);
      }
      const values = await readTogetherOf(meanLoss, accuracy);
      const result: EpochResult = { epoch, loss: meanLoss.fromValues(values[0]), accuracy: accuracy.count > 0 ? accuracy.fromValues(values[1]) : null, lr, steps, samples };
      if (!Number.isFinite(result.loss)) {
        await raise({ step: history.steps, epoch, loss: result.loss, epochMean: true, firstStep }, options.onNonFinite);
      }
      history.epochs.push(result);
      if (scheduler && settings.schedulerStep === 'epoch' && !history.aborted) scheduler.step();
      await options.onEpoch?.(result);
    } finally {
      meanLoss.dispose();
      accuracy.dispose();
    }
  }
  return history;
}

interface Settings<B extends TrainingBatch> {
  optimizer: Optimizer;
  loss: LossFn<B>;
  clip: number | null;
  readEvery: number;
  accuracy: boolean;
  disposeBatches: boolean;
  schedulerStep: 'batch' | 'epoch';
  onOutput: FitOptions<B>['onOutput'];
}

/** One optimizer step (inside the caller's tidy); returns the loss when it is to be read. */
function trainStep<B extends TrainingBatch>(model: Module<[Tensor], Tensor> | DataParallel, batch: B, n: number, s: Settings<B>, meanLoss: Mean, accuracy: Accuracy | null, keepLoss: boolean): Tensor | null {
  model.zeroGrad();
  s.optimizer.zeroGrad();
  const { output, loss } = model instanceof DataParallel ? model.forwardBackward(batch, s.loss) : forwardBackward(model, batch, s.loss);
  if (s.clip !== null) {
    const clip = s.clip;
    if (model instanceof DataParallel) for (const m of model.replicas) clipGradNorm(m.parameters(), clip);
    else clipGradNorm(s.optimizer.params, clip);
  }
  s.optimizer.step();
  meanLoss.update(loss, n);
  const targets = targetsOf(batch);
  if (accuracy && targets) accuracy.update(output, targets);
  s.onOutput?.(output, batch);
  return keepLoss ? loss.detach() : null;
}

/**
 * Forward and backward in a scope of their own: the activations are freed before the optimizer
 * step, so no deferred activation has to keep the old parameter values the step overwrites.
 */
function forwardBackward<B extends TrainingBatch>(model: Module<[Tensor], Tensor>, batch: B, lossOf: LossFn<B>): { output: Tensor; loss: Tensor } {
  return tidy(() => {
    const output = model.call(batch.x);
    const loss = lossOf(output, batch);
    if (loss.size !== 1) throw new Error(`fit: the loss must be a single value, got shape ${shapeToString(loss.shape)}`);
    loss.backward();
    return { output, loss };
  });
}

/** The epoch's loss and accuracy sums, in one readback. */
async function readTogetherOf(meanLoss: Mean, accuracy: Accuracy): Promise<Float32Array[][]> {
  const values = await readTogether([...meanLoss.tensors, ...accuracy.tensors]);
  return [values.slice(0, 1), values.slice(1)];
}

async function throwIfNonFinite(reader: LossReader, onNonFinite: FitOptions['onNonFinite']): Promise<void> {
  const bad = await reader.firstNonFinite();
  if (bad) await raise({ ...bad, epochMean: false, firstStep: bad.step }, onNonFinite);
}

async function raise(info: NonFiniteInfo, onNonFinite: FitOptions['onNonFinite']): Promise<never> {
  const detail = (await onNonFinite?.(info)) || null;
  throw new NonFiniteLossError(info, detail);
}

function batchesOf<B>(train: FitOptions<B & TrainingBatch>['train'], epoch: number): Iterable<B> {
  const batches = typeof train === 'function' ? train(epoch) : train;
  if (batches === null || typeof (batches as Partial<Iterable<B>>)[Symbol.iterator] !== 'function') {
    throw new Error(`fit: train must be iterable (an array, a DataLoader) or a function (epoch) => batches; epoch ${epoch} got ${String(batches)}`);
  }
  return batches as Iterable<B>;
}

function checkFitOptions<B extends TrainingBatch>(model: Module<[Tensor], Tensor> | DataParallel, o: FitOptions<B>): Settings<B> {
  const trainable = model instanceof DataParallel || (typeof model?.call === 'function' && typeof model.train === 'function');
  if (!trainable) throw new Error(`fit: expected a Module or a DataParallel, got ${String(model)}`);
  if (!(o.optimizer instanceof Optimizer)) throw new Error(`fit: optimizer must be an Optimizer (SGD, Adam, AdamW), got ${String(o.optimizer)}`);
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new Error(`fit: epochs must be a positive integer, got ${String(o.epochs)}`);
  const readEvery = o.readEvery ?? 10;
  if (!Number.isInteger(readEvery) || readEvery < 0) throw new Error(`fit: readEvery must be an integer >= 0, got ${String(readEvery)}`);
  const clip = o.clipGradNorm ?? null;
  if (clip !== null && (typeof clip !== 'number' || !Number.isFinite(clip) || clip < 0)) {
    throw new Error(`fit: clipGradNorm must be a finite number >= 0, got ${String(clip)}`);
  }
  const schedulerStep = o.schedulerStep ?? 'epoch';
  if (schedulerStep !== 'batch' && schedulerStep !== 'epoch') throw new Error(`fit: schedulerStep must be 'batch' or 'epoch', got ${String(schedulerStep)}`);
  if (o.scheduler !== undefined && typeof o.scheduler?.step !== 'function') throw new Error(`fit: scheduler must have a step() method, got ${String(o.scheduler)}`);
  return {
    optimizer: o.optimizer,
    loss: o.loss ?? (defaultLoss as LossFn<B>),
    clip,
    readEvery,
    accuracy: o.accuracy ?? true,
    disposeBatches: o.disposeBatches ?? true,
    schedulerStep,
    onOutput: o.onOutput,
  };
}
