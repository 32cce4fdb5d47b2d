// One training run, the same in Node and in a browser page: builds the model, the optimizer and
// the batches from a configuration, trains with `fit`, evaluates on the test split after each
// epoch, and returns the metrics and the checkpoint's bytes. Everything that touches files or
// the terminal is the caller's, through the hooks; the caller's abort signal stops the run at
// the next step boundary with the weights as they are. Browser-safe.
import { getBackend, manualSeed, type Tensor } from '@welford/core';
import { mixupLoss } from '@welford/data';
import { convertSyncBatchNorm, DataParallel, defaultLoss, evaluate, fit, saveSafetensors, type FitHistory, type Module, type StepInfo } from '@welford/layers';
import { attachProbes, type Probes, type StatsSink } from '@welford/stats';
import { RunError } from '../errors.ts';
import { DATASET_INFO, type TrainConfig } from './config.ts';
import { limitedData, testBatches, trainBatches, type ByteDataset, type RunBatch, type TrainingData } from './data_pipeline.ts';
import { diagnoseNonFinite, NonFiniteWatch } from './diagnose.ts';
import { checkpointMetadata } from './metadata.ts';
import { buildModel } from './model.ts';
import { buildOptimization, buildOptimizer, withSchedule, type Optimization } from './optimizer.ts';
import { TrainingStopped } from './stop.ts';
import { epochMetrics, StepLog, testMetrics, type EpochMetrics, type MetricsRecord, type TestMetrics } from './step_log.ts';

/** Where a run is after an optimizer step (host-side numbers, and the latest values read). */
export interface StepProgress {
  step: number;
  totalSteps: number;
  epoch: number;
  epochs: number;
  /** The batch's index in its epoch, and the batches per epoch. */
  batch: number;
  batchesPerEpoch: number;
  lr: number;
  stepsPerSecond: number;
  loss: number | null;
  accuracy: number | null;
}

/** What a caller hears of a run while it goes. */
export interface TrainingHooks {
  /** After every optimizer step (the progress line). */
  onStep?(progress: StepProgress): void;
  /** Each metrics record: every `logEvery` steps once read back, and per epoch. */
  onMetrics?(record: MetricsRecord): void;
  /** Where the statistics probes' records go (with `statsEvery` > 0). */
  statsSinks?: StatsSink[];
  /** Status lines ("evaluating on 2004 test samples"). */
  onLog?(line: string): void;
}

/** Options of `runTraining`. */
export interface TrainingOptions {
  /**
   * Stops the run at the next step boundary (or in the middle of an evaluation); `runTraining`
   * then returns a `StoppedTraining` with the weights as they are.
   */
  signal?: AbortSignal;
}

/** What a finished run gives back. */
export interface TrainingResult {
  stopped: false;
  /** Optimizer steps taken. */
  steps: number;
  epochs: EpochMetrics[];
  /** The last evaluation on the test split. */
  test: TestMetrics;
  /** The backend trained on (`webgpu: ...`, `cpu: ...`). */
  adapter: string;
  /** Seconds from the first step to the checkpoint. */
  trainSeconds: number;
  /** The trained model as a safetensors file, with the configuration in its metadata. */
  checkpoint: Uint8Array;
  samples: { train: number; test: number };
  /**
   * With replicas: per batch-norm layer, how far the replicas' running statistics ended apart
   * (largest |replica r − replica 0| over channels; 0 with synchronised batch norm).
   */
  replicaSpread?: ReplicaSpread[];
}

/** What a run stopped by the caller's signal gives back. */
export interface StoppedTraining {
  stopped: true;
  /** Optimizer steps taken before the stop. */
  steps: number;
  /** The epochs trained and evaluated in full before the stop. */
  epochs: EpochMetrics[];
  adapter: string;
  trainSeconds: number;
  /** The weights when training stopped (metadata as a finished run's); null when no step was taken. */
  checkpoint: Uint8Array | null;
  samples: { train: number; test: number };
}

/** How far the replicas' running statistics of one batch-norm layer are apart. */
export interface ReplicaSpread {
  layer: string;
  runningMean: number;
  runningVar: number;
}

/** The largest |a_r[i] − a_0[i]| over replicas r and channels i. */
function spreadOf(perReplica: Float32Array[]): number {
  let worst = 0;
  for (const values of perReplica) values.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - perReplica[0][i]))));
  return worst;
}

/** Targets per sample: 1 label, or H·W mask pixels. */
function targetsPerSample(set: ByteDataset): number {
  return set.kind === 'labels' ? 1 : set.shape[1] * set.shape[2];
}

/** `batches`, until `signal` fires: then the batch taken is freed and `TrainingStopped` thrown. */
function* untilStopped(batches: Iterable<RunBatch>, signal: AbortSignal): Generator<RunBatch> {
  for (const batch of batches) {
    if (signal.aborted) {
      batch.x.dispose();
      batch.y?.dispose();
      batch.mask?.dispose();
      throw new TrainingStopped('during evaluation');
    }
    yield batch;
  }
}

/**
 * Evaluates `model` on the test split: loss, accuracy (pixel accuracy and mean IoU for masks).
 * With `signal`, an abort stops it between batches with `TrainingStopped`.
 */
export async function evaluateTest(model: Module<[Tensor], Tensor>, config: TrainConfig, test: ByteDataset, signal?: AbortSignal): Promise<TestMetrics> {
  const segmentation = DATASET_INFO[config.dataset].task === 'segmentation';
  const batches = signal ? untilStopped(testBatches(config, test), signal) : testBatches(config, test);
  const result = await evaluate(model, batches, { metrics: segmentation ? ['loss', 'accuracy', 'miou'] : ['loss', 'accuracy'] });
  return testMetrics(result, targetsPerSample(test));
}

/**
 * Trains a model as `config` says on `data` (the caller has called core's `init`). Stops after
 * `config.steps` steps when given. A NaN or infinite loss throws `NonFiniteLossError` naming
 * the step and the first layer whose statistics went non-finite; a run too small for one batch
 * throws `RunError`. The model is disposed before this returns or throws. With `replicas` > 1
 * the model trains data-parallel, a device each (see DataParallel); statistics probes, evaluation
 * and the checkpoint use replica 0. When `options.signal` fires before the last evaluation has
 * finished, the run stops at the next step boundary (an evaluation in progress is dropped) and
 * returns a `StoppedTraining`.
 */
export async function runTraining(config: TrainConfig, data: TrainingData, hooks: TrainingHooks = {}, options: TrainingOptions = {}): Promise<TrainingResult | StoppedTraining> {
  const { train, test } = limitedData(config, data);
  const source = trainBatches(config, train);
  if (source.batchesPerEpoch === 0) throw new RunError(`the training split has ${train.length} samples, fewer than one batch of ${config.batch}: lower --batch or raise --train-limit`);
  const totalSteps = Math.min(config.steps ?? Infinity, config.epochs * source.batchesPerEpoch);
  const epochs = Math.ceil(totalSteps / source.batchesPerEpoch);
  const samples = { train: train.length, test: test.length };
  const signal = options.signal;
  if (signal?.aborted) return { stopped: true, steps: 0, epochs: [], adapter: getBackend().description, trainSeconds: 0, checkpoint: null, samples };

  manualSeed(config.seed);
  const parallel = config.replicas > 1 ? await DataParallel.create(() => buildModel(config), { replicas: config.replicas, syncBatchNorm: config.syncBn }) : null;
  const model = parallel ? parallel.module : buildModel(config);
  const { optimizer, scheduler }: Optimization = parallel
    ? withSchedule(config, parallel.optimizer((params) => buildOptimizer(config, params)), totalSteps)
    : buildOptimization(config, model.parameters(), totalSteps);
  const watch = new NonFiniteWatch();
  let probes: Probes | null = null;
  const log = new StepLog(config.logEvery, (r) => hooks.onMetrics?.(r));
  // Aborted by the last step, or by the caller's signal.
  const stop = new AbortController();
  const relay = (): void => stop.abort();
  signal?.addEventListener('abort', relay);
  const records: EpochMetrics[] = [];
  let lastStep = 0;
  try {
    if (config.statsEvery > 0) {
      // Probe steps count from 1, as fit's steps, so records and metrics share step numbers.
      probes = attachProbes(model, { every: config.statsEvery, sinks: [...(hooks.statsSinks ?? []), watch], startStep: 1 });
      const p = probes;
      const step = optimizer.step.bind(optimizer);
      // Update ratios need the weights just before and after the update.
      optimizer.step = () => {
        p.beforeOptimizerStep();
        step();
        p.afterOptimizerStep();
      };
    }
    const loss = (output: Tensor, batch: RunBatch): Tensor => (batch.yB ? mixupLoss(output, batch.y!, batch.yB, batch.lambda!) : defaultLoss(output, batch));
    // The whole batch's output (gathered from the replicas when data-parallel) feeds the step metrics.
    const onOutput = (output: Tensor, batch: RunBatch): void => {
      const targets = batch.y ?? batch.mask;
      if (targets) log.update(output, targets);
    };
    const onStep = (info: StepInfo): void => {
      lastStep = info.step;
      probes?.step();
      log.onStep(info);
      hooks.onStep?.({
        step: info.step,
        totalSteps,
        epoch: info.epoch,
        epochs,
        batch: info.batch,
        batchesPerEpoch: source.batchesPerEpoch,
        lr: info.lr,
        stepsPerSecond: log.stepsPerSecond,
        loss: log.latestLoss,
        accuracy: log.latestAccuracy,
      });
      if (info.step >= totalSteps) stop.abort();
    };
    // An evaluation that a stop interrupted has nothing to give: the history is then unknown.
    const history: FitHistory | null = await fit(parallel ?? model, {
      train: source.batches,
      epochs,
      optimizer,
      scheduler: scheduler ?? undefined,
      schedulerStep: 'batch',
      clipGradNorm: config.clip ?? undefined,
      readEvery: config.logEvery,
      loss,
      onOutput,
      signal: stop.signal,
      onStep,
      onLoss: (reading) => log.onLoss(reading),
      onEpoch: async (result) => {
        await log.drain();
        // A stopped run is not evaluated: the caller asked for the weights now.
        if (signal?.aborted) return;
        hooks.onLog?.(`evaluating on ${test.length} test samples`);
        const metrics = epochMetrics(result, records.reduce((s, r) => s + r.steps, 0) + result.steps, await evaluateTest(model, config, test, signal), log.elapsed);
        records.push(metrics);
        hooks.onMetrics?.(metrics);
      },
      onNonFinite: async () => {
        const p = probes;
        probes = null;
        // Replica 0 alone: its batch norm must not wait for the others.
        if (parallel) convertSyncBatchNorm(model, null);
        return diagnoseNonFinite(model, p, watch, () => firstImages(source.batches));
      },
    }).catch((e: unknown) => {
      if (e instanceof TrainingStopped) return null;
      throw e;
    });
    await log.drain();
    if (probes) await probes.flush();
    const adapter = parallel ? `${parallel.size} replicas, each on ${getBackend().description}` : getBackend().description;
    // Complete when every epoch trained was evaluated; a stop skips or interrupts the last evaluation.
    if (history === null || records.length === 0 || records.length < history.epochs.length) {
      const steps = history?.steps ?? lastStep;
      const checkpoint = steps > 0 ? await saveSafetensors(model, { metadata: checkpointMetadata(config) }) : null;
      return { stopped: true, steps, epochs: records, adapter, trainSeconds: log.elapsed, checkpoint, samples };
    }
    const checkpoint = await saveSafetensors(model, { metadata: checkpointMetadata(config) });
    const replicaSpread = parallel
      ? (await parallel.replicaStatistics()).map((s) => ({ layer: s.layer, runningMean: spreadOf(s.runningMean), runningVar: spreadOf(s.runningVar) }))
      : undefined;
    return {
      stopped: false,
      steps: history.steps,
      epochs: records,
      test: records[records.length - 1].test,
      adapter,
      trainSeconds: log.elapsed,
      checkpoint,
      samples,
      replicaSpread,
    };
  } finally {
    signal?.removeEventListener('abort', relay);
    probes?.detach();
    log.dispose();
    optimizer.dispose();
    if (parallel) parallel.dispose();
    else model.dispose();
  }
}

/** The images of the first training batch, for a diagnostic forward pass (labels freed). */
function firstImages(batches: (epoch: number) => Iterable<RunBatch>): Tensor | null {
  for (const b of batches(0)) {
    b.y?.dispose();
    b.mask?.dispose();
    b.yB?.dispose();
    return b.x;
  }
  return null;
}
