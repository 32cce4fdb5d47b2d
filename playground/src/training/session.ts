// One training run in the page: a model, its optimizer, the statistics probes and the batch
// stream, trained by @welford/layers' `fit` in chunks of `evalEvery` steps (each chunk is one of
// fit's epochs, so its end is where the test split is evaluated), paused and resumed through
// fit's abort signal, and stepped one batch at a time.
import { manualSeed, type Optimizer, type Tensor } from '@welford/core';
import { evaluate, fit, loadSafetensors, saveSafetensors, type AnyModule, type EpochResult, type Module, type TrainingBatch } from '@welford/layers';
import { attachProbes, memorySink, type MemorySink, type Probes } from '@welford/stats';
import { lossBehind } from '../backend.ts';
import { DATASET_INFO, toQuery, type PlaygroundConfig } from '../config.ts';
import type { Splits } from '../data/load.ts';
import { buildModel, buildOptimizer } from '../model.ts';
import { previewBatch, take, testBatches, trainStream } from './batches.ts';
import { predict, type Predictions } from './preview.ts';
import { StepRate } from './rate.ts';

/** Images in the prediction grid. */
export const PREVIEW_IMAGES = 16;
/** Stats records kept for the charts (at every 10 steps: the last 20000 steps). */
const RECORDS_KEPT = 2000;

/** 'lost': the GPU device was lost; the session is dead and waits to be replaced (the page resumes on a new device). */
export type RunState = 'paused' | 'running' | 'stepping' | 'diverged' | 'failed' | 'lost';

/** A point of the training curve: means over the steps since the previous point. */
export interface TrainPoint {
  step: number;
  loss: number;
  accuracy: number | null;
}

/** An evaluation on the test subset. */
export interface TestPoint {
  step: number;
  loss: number;
  /** Top-1 accuracy, or pixel accuracy for masks. */
  accuracy: number;
  /** Segmentation: mean IoU over the classes present. */
  miou: number | null;
}

/** What the page hears of a session. */
export interface SessionListener {
  loss(step: number, loss: number): void;
  trained(point: TrainPoint): void;
  tested(point: TestPoint): void;
  predictions(p: Predictions): void;
  stepped(step: number, stepsPerSecond: number): void;
  state(state: RunState, detail: string | null): void;
  /** At every evaluation and pause: a consistent moment to save the weights (awaited). */
  checkpoint(session: Session): Promise<void>;
}

export class Session {
  readonly model: Module<[Tensor], Tensor>;
  /** Every read step's statistics record; the charts subscribe to it. */
  readonly sink: MemorySink = memorySink({ capacity: RECORDS_KEPT });
  readonly segmentation: boolean;
  readonly classes: readonly string[];
  /** Optimizer steps taken (the global step of the last one). */
  step = 0;
  /** The dataset epoch the batch stream is in. */
  epoch = 0;
  state: RunState = 'paused';
  private optimizer: Optimizer;
  private probes: Probes | null = null;
  private focusLayer: string | null;
  private stream: Generator<TrainingBatch>;
  private readonly preview: TrainingBatch;
  private readonly rate = new StepRate();
  private stop: AbortController | null = null;
  private loop: Promise<void> = Promise.resolve();
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  /** `startStep`: the steps already taken by the weights a restored run will load (its step numbers go on from there). */
  constructor(
    public config: PlaygroundConfig,
    readonly data: Splits,
    private readonly listener: SessionListener,
    startStep = 0,
  ) {
    const [c] = data.train.shape;
    this.step = startStep;
    this.segmentation = DATASET_INFO[config.dataset].task === 'segmentation';
    this.classes = data.train.classes;
    manualSeed(config.seed);
    this.model = buildModel(config, this.classes.length, c);
    this.optimizer = this.wrapped(buildOptimizer(config, this.model.parameters()));
    this.stream = this.newStream(Math.floor((startStep * config.batch) / data.train.length));
    this.preview = previewBatch(data.test, config, PREVIEW_IMAGES);
    // Which layers get probed is the probes' decision: attach them, then pick the first norm
    // layer (or, without norms, the first ReLU) and attach again with its histogram.
    this.focusLayer = null;
    this.attachProbes();
    const focus = this.normLayers()[0] ?? this.probedLayers()[0] ?? null;
    if (focus !== null) this.setFocusNow(focus);
  }

  /** Layers the probes watch (norm layers and ReLUs), in the model's order. */
  probedLayers(): string[] {
    return this.probes?.probedLayers ?? [];
  }

  /** The probed layers that normalize (everything but the ReLUs). */
  normLayers(): string[] {
    return this.probedLayers().filter((n) => this.probes?.layerKind(n)?.kind === 'norm');
  }

  /** The probed ReLU modules (relu{i} after each norm, or after each conv without norms): where the dead fraction is measured. */
  reluLayers(): string[] {
    return this.probedLayers().filter((n) => this.probes?.layerKind(n)?.kind === 'relu');
  }

  /** The model's module called `name`, and what kind of probed layer it is: one with running statistics, one without, or a ReLU. */
  layerKind(name: string): { module: AnyModule | undefined; kind: 'running' | 'per-sample' | 'relu' } {
    const module = this.model.namedModules().find(([n]) => n === name)?.[1];
    const probed = this.probes?.layerKind(name);
    if (probed?.kind !== 'norm') return { module, kind: 'relu' };
    return { module, kind: probed.running ? 'running' : 'per-sample' };
  }

  /** The layer whose histogram and batch/running statistics are shown. */
  get focus(): string | null {
    return this.focusLayer;
  }

  /** The test images of the prediction grid ([0, 1] intensities) with their labels or masks. */
  previewSamples(): { image: Float32Array; label?: number; mask?: Uint8Array }[] {
    return Array.from({ length: Math.min(PREVIEW_IMAGES, this.data.test.length) }, (_, i) => this.data.test.get(i));
  }

  /** Runs training until `pause()`. */
  start(): void {
    void this.serial(async () => {
      if (this.state !== 'running') this.begin('run');
    });
  }

  /** Stops after the step in progress; resolves once the loop has returned. */
  async pause(): Promise<void> {
    this.stop?.abort();
    await this.loop;
  }

  /** One optimizer step on the next batch, then a pause. */
  stepOnce(): Promise<void> {
    return this.serial(async () => {
      await this.pause();
      await this.begin('step');
    });
  }

  /** Pauses, runs `change`, and resumes if training was running. Changes never overlap. */
  whilePaused<T>(change: () => T | Promise<T>): Promise<T> {
    return this.serial(async () => {
      const wasRunning = this.state === 'running';
      await this.pause();
      try {
        return await change();
      } finally {
        if (wasRunning) this.begin('run');
      }
    });
  }

  /** The learning rate of the next step (takes effect at once; no pause needed). */
  setLearningRate(lr: number): void {
    this.config = { ...this.config, lr };
    this.optimizer.lr = lr;
  }

  /** A new optimizer (its state starts afresh): another kind or weight decay. */
  setOptimizer(config: PlaygroundConfig): Promise<void> {
    return this.whilePaused(() => {
      this.config = config;
      this.optimizer.dispose();
      this.optimizer = this.wrapped(buildOptimizer(config, this.model.parameters()));
    });
  }

  /** Another batch size: the stream restarts at the next epoch with batches of the new size. */
  setBatchSize(config: PlaygroundConfig): Promise<void> {
    return this.whilePaused(() => {
      this.config = config;
      this.stream.return(undefined);
      this.stream = this.newStream(this.epoch + 1);
    });
  }

  /** Settings read as training goes (evaluation interval and size). */
  setSchedule(config: PlaygroundConfig): void {
    this.config = config;
  }

  /** Reads statistics every `statsEvery` steps and histograms `focus` (re-attaches the probes). */
  setProbes(config: PlaygroundConfig, focus: string | null): Promise<void> {
    return this.whilePaused(() => {
      this.config = config;
      this.setFocusNow(focus);
    });
  }

  /** Re-attaches the probes with the histogram of `focus` (call while no step is in flight). */
  private setFocusNow(focus: string | null): void {
    this.focusLayer = focus;
    this.probes?.detach();
    this.attachProbes();
  }

  /**
   * Loads a safetensors checkpoint into the model. `loadSafetensors` checks the whole file
   * (names, shapes, dtypes) before writing anything, so a refused file leaves the model as it
   * was; on success the optimizer starts afresh (its moments belonged to the old weights).
   */
  loadCheckpoint(bytes: Uint8Array): Promise<void> {
    return this.whilePaused(async () => {
      await loadSafetensors(this.model, bytes);
      this.optimizer.dispose();
      this.optimizer = this.wrapped(buildOptimizer(this.config, this.model.parameters()));
      await this.showPredictions();
    });
  }

  /** The weights as a safetensors file, with the configuration and step in its metadata. */
  snapshot(): Promise<Uint8Array> {
    return saveSafetensors(this.model, { metadata: { playground: toQuery(this.config), step: String(this.step) } });
  }

  /** Evaluates on the test subset and refreshes the prediction grid (e.g. after a restore). */
  refresh(): Promise<void> {
    return this.whilePaused(async () => {
      await this.evaluateTest();
      await this.showPredictions();
    });
  }

  /** Stops training and frees the model, optimizer, probes and preview batch. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await this.pause().catch(() => undefined);
    await this.queue.catch(() => undefined);
    this.probes?.detach();
    this.stream.return(undefined);
    this.optimizer.dispose();
    this.model.dispose();
    this.preview.x.dispose();
    this.preview.y?.dispose();
    this.preview.mask?.dispose();
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.queue.then(task, task);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private setState(state: RunState, detail: string | null = null): void {
    this.state = state;
    this.listener.state(state, detail);
  }

  private newStream(firstEpoch: number): Generator<TrainingBatch> {
    // The stream is lazy (its first batch comes with the first step): the epoch is known now.
    this.epoch = firstEpoch;
    return trainStream(this.data.train, this.config, firstEpoch, (e) => (this.epoch = e));
  }

  /** Update norms need the weights just before and after the update, so the probes wrap the optimizer's step. */
  private wrapped(optimizer: Optimizer): Optimizer {
    const step = optimizer.step.bind(optimizer);
    optimizer.step = () => {
      this.probes?.beforeOptimizerStep();
      step();
      this.probes?.afterOptimizerStep();
    };
    return optimizer;
  }

  private attachProbes(): void {
    const focus = this.focusLayer;
    this.probes = attachProbes(this.model, {
      every: this.config.statsEvery,
      histograms: focus ? [{ layer: focus, bins: 40 }] : [],
      sinks: [this.sink],
      // Probe steps are the global step numbers: the next step is step + 1.
      startStep: this.step + 1,
    });
  }

  /**
   * Starts `fit` and returns the loop's promise (which never rejects: failures become states).
   * 'run' trains in chunks until the signal stops it; 'step' takes one batch.
   */
  private begin(mode: 'run' | 'step'): Promise<void> {
    if (this.disposed || this.state === 'diverged' || this.state === 'failed' || this.state === 'lost') return Promise.resolve();
    const single = mode === 'step';
    const stop = new AbortController();
    this.stop = stop;
    const base = this.step;
    this.rate.reset();
    this.setState(single ? 'stepping' : 'running');
    const { evalEvery } = this.config;
    const loop = fit(this.model, {
      train: () => take(this.stream, single ? 1 : evalEvery - (this.step % evalEvery)),
      epochs: single ? 1 : Number.MAX_SAFE_INTEGER,
      optimizer: this.optimizer,
      readEvery: single ? 1 : Math.min(5, evalEvery),
      signal: stop.signal,
      onStep: () => {
        this.step++;
        this.probes?.step();
        this.listener.stepped(this.step, this.rate.rate);
      },
      onLoss: (r) => {
        this.rate.tick(base + r.step);
        this.listener.loss(base + r.step, r.loss);
      },
      onEpoch: (r) => this.afterChunk(r, single ? 'step' : stop.signal.aborted ? 'pause' : 'chunk'),
      onNonFinite: () => {
        const bad = this.sink.latest?.nonFinite[0];
        return bad ? `the first layer with non-finite statistics was ${bad}` : undefined;
      },
    }).then(
      () => this.setState('paused'),
      (e: unknown) => this.stopped(e),
    );
    this.loop = loop.finally(() => {
      if (this.stop === stop) this.stop = null;
    });
    return this.loop;
  }

  /**
   * Why training stopped: it diverged, it failed, or the device was lost, which stops whatever
   * step, evaluation or checkpoint was under way. That is one event, not a failure of that step.
   */
  private stopped(e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    if (/non-finite|NaN|Infinity/i.test(message)) return this.setState('diverged', message);
    const loss = lossBehind(e, this.model.parameters()[0]?.backend);
    this.setState(loss ? 'lost' : 'failed', loss?.message ?? message);
  }

  /** At the end of each chunk, pause or single step: the training means, the test metrics, the grid and a checkpoint. */
  private async afterChunk(r: EpochResult, why: 'chunk' | 'pause' | 'step'): Promise<void> {
    this.listener.trained({ step: this.step, loss: r.loss, accuracy: r.accuracy });
    await this.probes?.flush();
    // A single step only refreshes the grid; a full chunk or a pause also evaluates.
    if (why !== 'step' || this.step % this.config.evalEvery === 0) await this.evaluateTest();
    await this.showPredictions();
    await this.listener.checkpoint(this);
  }

  private async evaluateTest(): Promise<void> {
    const metrics = this.segmentation ? (['loss', 'accuracy', 'miou'] as const) : (['loss', 'accuracy'] as const);
    const ev = await evaluate(this.model, testBatches(this.data.test, this.config), { metrics });
    this.listener.tested({ step: this.step, loss: ev.loss ?? NaN, accuracy: ev.accuracy ?? NaN, miou: ev.miou ?? null });
  }

  private async showPredictions(): Promise<void> {
    this.listener.predictions(await predict(this.model, this.preview.x, this.segmentation, this.step));
  }
}
