// The page's controller: reads the configuration from the URL, starts a backend, builds a
// training session and its panels, and wires the controls, checkpoints, persistence and device
// loss to them. Drawing happens once per animation frame, from what the session reported.
import { DeviceLostError, memory, type Backend } from '@welford/core';
import { adapterName, describeLoss, destroyDevice, startCpu, startWebGpu, watchDeviceLoss } from './backend.ts';
import { checkpointName, download, refusal } from './checkpoint_io.ts';
import { architectureKey, DATASET_INFO, DATASETS, describeArchitecture, NORM_LABELS, parseQuery, toQuery, type PlaygroundConfig } from './config.ts';
import { datasetManifest, loadDataset } from './data/load.ts';
import { Lab } from './lab/lab.ts';
import { initialState } from './page_state.ts';
import { clearRun, loadRun, saveRun, type SavedRun } from './persist.ts';
import { Session, type SessionListener } from './training/session.ts';
import type { Chart } from './views/chart.ts';
import { Controls } from './views/controls.ts';
import { showGuide } from './views/guide.ts';
import { History } from './views/history.ts';
import { dismiss, notify, shownNotices } from './views/notices.ts';
import { createPanels, type PanelLayout } from './views/panels.ts';
import { formatBytes, ProgressView, waiting, type Progress } from './views/progress.ts';
import { maskLegend, renderPredictions } from './views/predictions.ts';
import { focusCaption, modelCaptions } from './views/captions.ts';
import { addExplanations } from './views/explanations.ts';
import { plateauNote } from './views/plateau.ts';
import { describeModule, layerLabel } from './views/layer_names.ts';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

export class App {
  private config!: PlaygroundConfig;
  private backend: Backend | null = null;
  private session: Session | null = null;
  private history = new History([]);
  private charts = new Map<string, Chart>();
  private layout: PanelLayout | null = null;
  private controls: Controls | null = null;
  private available = new Set<string>();
  /** The newest checkpoint taken (also kept when IndexedDB is unavailable). */
  private lastSaved: SavedRun | null = null;
  private building: Promise<void> = Promise.resolve();
  private stepsPerSecond = 0;
  /** Bumped for every session, so that late reports of a replaced one are ignored. */
  private generation = 0;
  private summarizedAt = 0;
  /** The norm a batch-of-one notice was shown for (null: none shown). */
  private batchOfOne: string | null = null;
  private lab: Lab | null = null;
  /** An experiment of the lab is running: training waits. */
  private labBusy = false;
  private progress: ProgressView | null = null;
  readonly state = initialState();

  constructor() {
    // The notices are read from the page when the state is read, so a test never sees a list
    // older than the rest of the state (the frame loop samples the charts only a few times a second).
    Object.defineProperty(this.state, 'notices', { get: shownNotices, enumerable: true });
  }

  async boot(): Promise<void> {
    window.playgroundState = this.state;
    this.progress = new ProgressView($('run-state'));
    addExplanations();
    this.setProgress(waiting('list', 'Fetching the list of datasets'));
    window.playground = {
      loseDevice: () => destroyDevice(this.backend),
      weightsChecksum: () => this.weightsChecksum(),
      savedChecksum: () => (this.lastSaved ? checksum(this.lastSaved.bytes) : null),
      runExperiment: (name) => this.lab?.start(name),
    };
    const parsed = parseQuery(location.search);
    if (parsed.problems.length > 0) {
      notify({ key: 'url', kind: 'warn', text: `Some settings in the address could not be used, so defaults stand in:\n• ${parsed.problems.join('\n• ')}` });
    }
    const saved = await loadRun();
    // A bare address resumes the last run; an address with settings shows those settings.
    this.config = parsed.given || !saved ? parsed.config : parseQuery(saved.query).config;
    try {
      const manifest = await datasetManifest();
      this.available = new Set(Object.keys(manifest));
    } catch (e) {
      return this.fail(e);
    }
    this.config = this.availableConfig(this.config);
    this.controls = new Controls(this.config, this.available, (next, previous) => void this.onSettings(next, previous));
    this.bindButtons();
    this.lab = new Lab({
      pauseTraining: async () => {
        await this.session?.pause();
      },
      busy: (running) => {
        this.labBusy = running;
        this.setButtons(this.state.phase === 'ready');
      },
      report: (experiment) => {
        this.state.experiment = experiment;
      },
    });
    void this.lab.restore();
    this.publishConfig();
    requestAnimationFrame(this.frame);
    this.setProgress(waiting('device', 'Starting WebGPU'));
    const gpu = await startWebGpu();
    if (!gpu.ok) return this.offerCpu(gpu.reason);
    this.useBackend(gpu.backend);
    const restore = saved && architectureKey(parseQuery(saved.query).config) === architectureKey(this.config) ? saved : null;
    await this.rebuild(restore);
  }

  /** Drops a dataset the build lacks (Fashion-MNIST without its Debian package) for one it has. */
  private availableConfig(c: PlaygroundConfig): PlaygroundConfig {
    if (this.available.has(c.dataset)) return c;
    const other = DATASETS.find((d) => this.available.has(d) && DATASET_INFO[d].task === DATASET_INFO[c.dataset].task) ?? DATASETS.find((d) => this.available.has(d));
    if (!other) throw new Error('this build ships no dataset; run `pnpm playground`, which packs them');
    notify({ key: 'dataset', kind: 'warn', text: `${DATASET_INFO[c.dataset].label} is not part of this build (its source was missing when the data was packed); showing ${DATASET_INFO[other].label}.` });
    return parseQuery(toQuery({ ...c, dataset: other })).config;
  }

  private useBackend(backend: Backend): void {
    this.backend = backend;
    this.state.backend = backend.kind === 'cpu' ? 'cpu' : 'webgpu';
    this.state.adapter = adapterName(backend);
    $('memory-label').textContent = backend.kind === 'cpu' ? 'memory' : 'GPU memory';
    $('adapter').textContent = this.state.adapter;
    $('adapter').title = this.state.adapter;
    watchDeviceLoss(backend, () => this.backend === backend, (error) => this.onDeviceLost(error));
    this.lab?.enable(true);
  }

  /** No WebGPU: say so plainly and offer the CPU backend for the small CNN. */
  private offerCpu(reason: string): void {
    this.state.phase = 'no-webgpu';
    this.state.queuedStart = false;
    this.setProgress(null);
    document.body.dataset.state = 'no-webgpu';
    $('run-state').textContent = 'no WebGPU';
    $('adapter').textContent = 'no WebGPU';
    this.setButtons(false);
    notify({
      key: 'no-webgpu',
      kind: 'error',
      closable: false,
      text: `This browser gives the page no WebGPU, so it cannot train on the GPU (${reason}). Chrome and Edge have WebGPU; in Firefox and Safari it may need turning on. The small CNN can train on the CPU instead: the same maths in plain TypeScript, much slower.`,
      actions: [{ id: 'use-cpu', label: 'Train the small CNN on the CPU', run: () => this.useCpu() }],
    });
  }

  private async useCpu(): Promise<void> {
    dismiss('no-webgpu');
    this.useBackend(await startCpu());
    const c = { ...this.config, model: 'cnn' as const, dataset: this.config.dataset === 'shapes' ? ('mnist' as const) : this.config.dataset };
    this.config = this.availableConfig(parseQuery(toQuery(c)).config);
    this.controls?.show(this.config);
    this.controls?.restrictToCnn();
    notify({ key: 'cpu', kind: 'info', text: 'Training on the CPU reference backend: only the small CNN, and slowly. Try small batches.' });
    this.publishConfig();
    await this.rebuild(null);
  }

  /** A new session for the current configuration, with the saved run's weights when given. */
  private rebuild(restore: SavedRun | null, { start = false } = {}): Promise<void> {
    const task = async () => {
      const old = this.session;
      this.session = null;
      // The first model of the page is 'loading'; one that replaces it is 'building'.
      if (this.state.phase !== 'loading') this.state.phase = 'building';
      this.state.waits = [];
      this.setButtons(false);
      if (old) {
        this.setProgress(waiting('stop', 'Stopping the last model'));
        await old.dispose();
      }
      for (const chart of this.charts.values()) chart.destroy();
      this.charts.clear();
      const config = this.config;
      const dataset = DATASET_INFO[config.dataset].label;
      this.setProgress(waiting('data', `Fetching ${dataset}`));
      const data = await loadDataset(config.dataset, (p) =>
        this.setProgress(p.stage === 'fetch' ? { task: 'data', label: `Fetching ${dataset}: ${formatBytes(p.loaded, p.total)}`, done: p.loaded, total: p.total } : waiting('unpack', `Unpacking ${dataset}`)),
      );
      this.setProgress(waiting('model', `Building the model (${describeArchitecture(config)})`));
      await nextFrame();
      // A notice of an earlier restore would now describe another model.
      dismiss('restored');
      const session = new Session(config, data, this.listener(++this.generation), restore?.step ?? 0);
      this.session = session;
      this.resetState(session);
      if (restore) {
        this.setProgress(waiting('weights', `Restoring the weights of your last run (step ${restore.step})`));
        try {
          await session.loadCheckpoint(restore.bytes);
          this.state.restoredStep = restore.step;
          if (restore.history) this.history.restore(restore.history);
          notify({ key: 'restored', kind: 'info', text: `Restored the weights of your last run (step ${restore.step}, saved ${new Date(restore.savedAt).toLocaleString()}).` });
        } catch (e) {
          notify({ key: 'restored', kind: 'warn', text: `The saved run could not be restored, so training starts afresh: ${(e as Error).message}` });
        }
      }
      this.setProgress(waiting('evaluate', this.backend?.kind === 'cpu' ? 'Evaluating on the test images' : 'Compiling the GPU kernels and evaluating on the test images'));
      await session.refresh();
      this.setProgress(null);
      this.state.phase = 'ready';
      $('run-state').textContent = session.state;
      this.setButtons(true);
      // A Train pressed while this model was being built counts now.
      const queued = this.state.queuedStart;
      this.state.queuedStart = false;
      if (start || queued) session.start();
    };
    this.building = this.building.then(task, task).catch((e) => this.fail(e));
    return this.building;
  }

  /** Shows, keeps or hides the loss card's note on the ln(classes) plateau of a model without norms. */
  private explainPlateau(step: number, loss: number): void {
    const note = $('loss-note');
    const text = this.session && this.layout ? plateauNote({ normLayers: this.layout.normLayers.length, segmentation: this.layout.segmentation, classes: this.session.classes.length, step, loss }, !note.hidden) : null;
    if (text) note.textContent = text;
    note.hidden = text === null;
    this.state.plateauNote = text !== null;
  }

  private resetState(session: Session): void {
    $('loss-note').hidden = true;
    const normLayers = session.normLayers();
    const weights = session.model.namedParameters().map(([n]) => n).filter((n) => n.endsWith('weight') && !normLayers.includes(n.slice(0, n.lastIndexOf('.'))));
    const history = new History(normLayers);
    this.history = history;
    const generation = this.generation;
    session.sink.subscribe((r) => {
      if (generation !== this.generation) return;
      history.addRecord(r);
      this.state.records.push(r.step);
    });
    const describe = (n: string) => describeModule(session.layerKind(n).module);
    const labels = new Map(session.probedLayers().map((n) => [n, layerLabel(n, describe(n))]));
    this.layout = { segmentation: session.segmentation, normLayers, reluLayers: session.reluLayers(), weights, focus: session.focus, label: (n) => labels.get(n) ?? n };
    const captions = modelCaptions({ normLayers, norm: normLayers.length > 0 ? describe(normLayers[0]) : null, reluLayers: session.reluLayers() });
    for (const [id, text] of Object.entries(captions)) $(id).textContent = text;
    this.charts = createPanels(this.history, this.layout);
    this.stepsPerSecond = 0;
    Object.assign(this.state, { run: session.state, step: session.step, epoch: session.epoch, losses: [], tests: [], records: [], restoredStep: null, plateauNote: false, error: null, predictions: { count: 0, step: -1 } });
    // A new session starts paused, whatever the last one ended in (a lost device, a failure).
    document.body.dataset.state = session.state;
    $('architecture').textContent = describeArchitecture(session.config);
    $('accuracy-caption').textContent = session.segmentation
      ? 'Pixel accuracy between evaluations; test pixel accuracy and mean IoU over the four classes.'
      : 'Training accuracy between evaluations, and test accuracy.';
    $('predictions-caption').innerHTML = session.segmentation
      ? `Predicted mask (top) and true mask (bottom), from the model in evaluation mode. ${maskLegend(session.classes)}`
      : `The model in evaluation mode${normLayers.some((n) => session.layerKind(n).kind === 'running') ? ' (running statistics)' : ''} on the first test images: its top class and probability (green right, red wrong). Before the first step they show their true labels.`;
    this.fillFocus(session);
  }

  private fillFocus(session: Session): void {
    const select = $<HTMLSelectElement>('focus');
    select.replaceChildren(...session.probedLayers().map((n) => new Option(this.layout?.label(n) ?? n, n)));
    select.value = session.focus ?? '';
    this.describeFocus(session);
  }

  private describeFocus(session: Session): void {
    const focus = session.focus;
    const { module, kind } = focus ? session.layerKind(focus) : { module: undefined, kind: 'relu' as const };
    const layer = describeModule(module);
    $('hist-layer').textContent = focus ? `${focus} · ${layer.words}` : '';
    $('focus-caption').textContent = focus ? focusCaption(layer, kind, session.normLayers().length > 0) : 'This model has no layer to watch.';
    // Only layers that keep running averages have the second series of the per-channel charts.
    for (const id of ['chart-batch-mean', 'chart-batch-var']) this.charts.get(id)?.showSeries(1, kind === 'running');
  }

  /** What a session reports goes to the page while it is the current one (`generation`). */
  private listener(generation: number): SessionListener {
    const current = () => generation === this.generation;
    return {
      loss: (step, loss) => {
        if (!current()) return;
        this.history.addLoss(step, loss);
        this.state.losses.push([step, loss]);
        this.explainPlateau(step, loss);
      },
      trained: (p) => current() && this.history.addTrain(p),
      tested: (p) => {
        if (!current()) return;
        this.history.addTest(p);
        this.state.tests.push(p);
      },
      predictions: (p) => {
        const s = this.session;
        if (!s || !current()) return;
        renderPredictions($('predictions'), s.previewSamples(), s.data.test.shape, s.classes, p);
        $('predictions-step').textContent = `step ${p.step}`;
        this.state.predictions = { count: p.kind === 'labels' ? p.predicted.length : p.masks.length, step: p.step };
      },
      stepped: (step, rate) => {
        if (!current()) return;
        this.state.step = step;
        this.stepsPerSecond = rate;
      },
      state: (run, detail) => {
        if (!current()) return;
        this.state.run = run;
        document.body.dataset.state = run;
        $('run-state').textContent = run === 'stepping' ? 'step' : run === 'lost' ? 'device lost' : run;
        this.setButtons(true);
        if (run === 'diverged') {
          this.state.error = detail;
          notify({ key: 'run', kind: 'error', text: `Training diverged: ${detail}\nA smaller learning rate usually helps; press Reset to start again.` });
        } else if (run === 'failed' && this.state.phase !== 'lost') {
          this.state.error = detail;
          notify({ key: 'run', kind: 'error', text: `Training stopped: ${detail}` });
        }
      },
      checkpoint: async (session) => {
        const run: SavedRun = { query: toQuery(session.config), step: session.step, bytes: await session.snapshot(), savedAt: Date.now(), history: current() ? this.history.snapshot() : undefined };
        this.lastSaved = run;
        this.state.savedStep = run.step;
        await saveRun(run).then(
          () => this.state.saves++,
          (e: Error) => notify({ key: 'idb', kind: 'warn', text: `The run cannot be kept in this browser (${e.message}); use Save weights to keep it.` }),
        );
      },
    };
  }

  private async onSettings(next: PlaygroundConfig, previous: PlaygroundConfig): Promise<void> {
    this.config = next;
    this.publishConfig();
    const session = this.session;
    if (!session) return;
    const wasRunning = session.state === 'running';
    if (architectureKey(next) !== architectureKey(previous) || next.seed !== previous.seed) {
      await this.rebuild(null, { start: wasRunning });
      return;
    }
    if (next.optimizer !== previous.optimizer || next.weightDecay !== previous.weightDecay) await session.setOptimizer(next);
    else if (next.lr !== previous.lr) session.setLearningRate(next.lr);
    if (next.batch !== previous.batch) await session.setBatchSize(next);
    if (next.statsEvery !== previous.statsEvery) await session.setProbes(next, session.focus);
    session.setSchedule(next);
  }

  /** Writes the configuration to the URL, and explains a choice that cannot work as one expects. */
  private publishConfig(): void {
    const query = toQuery(this.config);
    this.state.query = query;
    history.replaceState(null, '', `${location.pathname}?${query}`);
    const c = this.config;
    const batchOfOne = c.batch === 1 && (c.norm === 'batch' || c.norm === 'batchrenorm') ? c.norm : null;
    // Said once per choice: a closed notice stays closed while the norm and batch stay.
    if (batchOfOne === this.batchOfOne) return;
    this.batchOfOne = batchOfOne;
    if (batchOfOne) {
      notify({
        key: 'batch-of-one',
        kind: 'warn',
        text:
          `A batch of 1 with ${NORM_LABELS[c.norm].toLowerCase()}: the batch statistics are those of a single image, so training normalizes each image by its own mean and variance (instance norm, in effect), ` +
          `while evaluation uses the running averages of those per-image statistics. The two normalize differently, so test results need not follow training. ` +
          `Group, layer and instance norm do not depend on the batch; batch statistics need batches of 2 or more.`,
      });
    } else {
      dismiss('batch-of-one');
    }
  }

  private bindButtons(): void {
    $('start').addEventListener('click', () => {
      if (this.isBuilding()) this.queueStart();
      else this.session?.start();
    });
    $('pause').addEventListener('click', () => void this.session?.pause());
    $('step').addEventListener('click', () => void this.session?.stepOnce());
    $('reset').addEventListener('click', () => void this.rebuild(null));
    $('save').addEventListener('click', () => void this.saveFile());
    $('forget').addEventListener('click', () => void this.forgetRun());
    const input = $<HTMLInputElement>('load');
    input.addEventListener('change', () => {
      const file = input.files?.[0];
      input.value = '';
      if (file) void this.loadFile(file);
    });
    $<HTMLSelectElement>('focus').addEventListener('change', (e) => void this.setFocus((e.target as HTMLSelectElement).value));
  }

  private async setFocus(layer: string): Promise<void> {
    const session = this.session;
    if (!session || !this.layout) return;
    await session.setProbes(session.config, layer);
    this.layout.focus = layer;
    this.history.recordVersion++;
    this.describeFocus(session);
  }

  /** Deletes what this browser keeps (the run, its charts, the lab's results); the page itself goes on. */
  private async forgetRun(): Promise<void> {
    try {
      await clearRun();
      this.state.forgotten++;
      notify({ key: 'forget', kind: 'info', text: 'This browser no longer keeps the run or the lab results: a reload starts afresh. The next evaluation or pause keeps the run again.' });
    } catch (e) {
      notify({ key: 'forget', kind: 'warn', text: `The saved run could not be deleted: ${(e as Error).message}` });
    }
  }

  private async saveFile(): Promise<void> {
    const session = this.session;
    if (!session) return;
    const bytes = await session.whilePaused(() => session.snapshot());
    download(bytes, checkpointName(session.config, session.step));
  }

  /** Loads an uploaded checkpoint; a refused file changes nothing and says why. */
  private async loadFile(file: File): Promise<void> {
    const session = this.session;
    if (!session) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    try {
      await session.loadCheckpoint(bytes);
      this.state.error = null;
      dismiss('checkpoint');
      notify({ key: 'checkpoint', kind: 'info', text: `Loaded ${file.name} into the model (the optimizer starts afresh).` });
    } catch (e) {
      this.state.error = refusal(e, bytes, session.config);
      notify({ key: 'checkpoint', kind: 'error', text: `${file.name} was not loaded, and the model is unchanged.\n${this.state.error}` });
    }
  }

  /** FNV-1a of the model's safetensors bytes. */
  private async weightsChecksum(): Promise<string> {
    const session = this.session;
    if (!session) return 'no model';
    return checksum(await session.whilePaused(() => session.snapshot()));
  }

  /**
   * The loss notice, once per loss. A run in progress stops by itself: its step, evaluation or
   * checkpoint rejects with the same error and the session turns 'lost' without a notice of its own.
   */
  private onDeviceLost(error: DeviceLostError): void {
    this.state.phase = 'lost';
    this.state.error = error.message;
    document.body.dataset.state = 'lost';
    $('run-state').textContent = 'device lost';
    this.setButtons(false);
    this.lab?.enable(false);
    dismiss('restored');
    const saved = this.lastSaved ? ` The last saved state is from step ${this.lastSaved.step}.` : '';
    notify({
      key: 'lost',
      kind: 'error',
      closable: false,
      text: `The GPU device was lost (${describeLoss(error)}), so training stopped.${saved}`,
      actions: [{ id: 'resume', label: 'Resume from last saved state', run: () => this.resume() }],
    });
  }

  /** After a device loss: a new device, and the last saved weights and settings on it. */
  private async resume(): Promise<void> {
    const gpu = await startWebGpu();
    if (!gpu.ok) {
      notify({ key: 'lost', kind: 'error', text: `No GPU device could be had again: ${gpu.reason}` });
      return;
    }
    dismiss('lost');
    // The old session's tensors died with their device: drop it without waiting on that device.
    const old = this.session;
    this.session = null;
    if (old) void old.dispose().catch(() => undefined);
    this.useBackend(gpu.backend);
    const saved = this.lastSaved ?? (await loadRun());
    if (saved) {
      this.config = parseQuery(saved.query).config;
      this.controls?.show(this.config);
      this.publishConfig();
    }
    await this.rebuild(saved && architectureKey(parseQuery(saved.query).config) === architectureKey(this.config) ? saved : null);
  }

  private setButtons(requested: boolean): void {
    // Nothing runs on a lost device: only the notice's Resume does anything until then.
    const enabled = requested && this.state.phase !== 'lost';
    const run = this.session?.state;
    const ready = enabled && !!this.session && !this.labBusy;
    const dead = run === 'diverged' || run === 'failed' || run === 'lost';
    // While a model is being built, Train stays pressable: the press is queued.
    $<HTMLButtonElement>('start').disabled = this.isBuilding() ? this.labBusy || this.state.queuedStart : !ready || run === 'running' || dead;
    $<HTMLButtonElement>('pause').disabled = !ready || run !== 'running';
    $<HTMLButtonElement>('step').disabled = !ready || run === 'running' || dead;
    $<HTMLButtonElement>('reset').disabled = !enabled && this.state.phase !== 'ready';
    $<HTMLButtonElement>('save').disabled = !ready;
  }

  /** Whether a model is on its way (the first one, or one replacing the last). */
  private isBuilding(): boolean {
    return this.state.phase === 'loading' || this.state.phase === 'building';
  }

  /** Train pressed while a model is being built: it starts once the model is ready. */
  private queueStart(): void {
    this.state.queuedStart = true;
    $('run-state').textContent = 'Train pressed: it starts once the model is ready';
    this.setButtons(false);
  }

  /** Shows what the page waits for (null: nothing), and exposes it in the page state. */
  private setProgress(p: Progress | null): void {
    this.state.progress = p;
    if (p && this.state.waits.at(-1) !== p.task) this.state.waits.push(p.task);
    if (p) this.progress?.show(p);
    else this.progress?.hide();
    if (p && !this.state.queuedStart) $('run-state').textContent = this.state.phase === 'building' ? 'building' : 'loading';
  }

  private fail(e: unknown): void {
    // The loss has its own notice, with the way out (watchDeviceLoss).
    if (e instanceof DeviceLostError) return;
    const message = e instanceof Error ? e.message : String(e);
    this.state.phase = 'error';
    this.state.error = message;
    this.state.queuedStart = false;
    this.setProgress(null);
    document.body.dataset.state = 'failed';
    notify({ key: 'fatal', kind: 'error', text: message });
  }

  /** Once per animation frame: charts whose data changed, the status line and the page state. */
  private readonly frame = (): void => {
    for (const chart of this.charts.values()) chart.draw();
    const s = this.session;
    if (s) {
      $('step-count').textContent = String(s.step);
      $('epoch').textContent = String(s.epoch);
      this.state.epoch = s.epoch;
      const running = s.state === 'running';
      this.state.stepsPerSecond = running ? this.stepsPerSecond : 0;
      // While paused, the rate of the last run stays, greyed.
      const rate = this.stepsPerSecond;
      const shown = rate > 0 ? rate.toFixed(rate < 10 ? 1 : 0) : '–';
      const el = $('rate');
      if (el.textContent !== shown) el.textContent = shown;
      el.classList.toggle('stale', !running);
      el.title = running || rate === 0 ? '' : 'measured while training ran';
    }
    if (this.backend && this.state.phase !== 'lost') {
      const m = memory(this.backend);
      this.state.memory = m;
      $('memory').textContent = `${(m.liveBytes / 2 ** 20).toFixed(1)} MiB in ${m.liveBuffers} buffers`;
    }
    showGuide($('guide'), this.state);
    // Counting the charts' values is cheap but not free: a few times a second is enough.
    if (performance.now() - this.summarizedAt > 250) {
      this.summarizedAt = performance.now();
      for (const [id, chart] of this.charts) this.state.charts[id] = chart.summary();
    }
    requestAnimationFrame(this.frame);
  };
}

/**
 * Resolves after the next frame (so that a label set before a long synchronous step is painted),
 * or after 50 ms in a background tab, which gets no frames.
 */
function nextFrame(): Promise<void> {
  return new Promise((resolve) => {
    requestAnimationFrame(() => setTimeout(resolve, 0));
    setTimeout(resolve, 50);
  });
}

/** FNV-1a of a checkpoint's bytes, to tell two sets of weights apart. */
function checksum(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}
