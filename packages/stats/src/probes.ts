import { noGrad, Tensor, tidy } from '@welford/core';
import type { AnyModule, HookHandle } from '@welford/layers';
import { HistogramProbe, type HistogramProbeOptions } from './histogram_probe.ts';
import { hasNonFinite, layerRecord, probeLayer, probeLayerState } from './layer_probe.ts';
import { ParamProbe, paramRecord } from './param_probe.ts';
import { ReadbackBatch } from './readback.ts';
import type { ChannelStats, StatsRecord, StatsSink } from './record.ts';
import { covariateShift } from './shift.ts';
import { targetOf, type Target } from './targets.ts';

/** What a probed layer is (`Probes.layerKind`). */
export type ProbedLayerKind = { kind: 'norm'; running: boolean } | { kind: 'relu' };

/** Options of `attachProbes`. */
export interface ProbeOptions {
  /** Read statistics every this many training steps (default 10): steps 0, every, 2·every, ... */
  every?: number;
  /** Layers (dotted names, as `namedModules()` gives them) whose activations get a histogram. */
  histograms?: readonly (string | HistogramProbeOptions)[];
  /** Where records go (default none: read them with a `memorySink` or add sinks later). */
  sinks?: readonly StatsSink[];
  /** Gradient norms, weight norms and update ratios of every parameter (default true). */
  params?: boolean;
  /** Probe only forwards in training mode (default true), so an evaluation pass does not stand in for the step. */
  trainingOnly?: boolean;
  /** The index of the first step (default 0), e.g. when training resumes. */
  startStep?: number;
}

interface LayerEntry {
  name: string;
  module: AnyModule;
  target: Target;
}

/** What one read step has gathered so far. */
interface StepState {
  step: number;
  batch: ReadbackBatch;
  /** Probed layers that ran, with their position in forward order. */
  fired: Map<string, number>;
  histogramsTaken: Set<string>;
  beforeOptimizer: boolean;
  afterOptimizer: boolean;
}

function checkCount(what: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new Error(`attachProbes: ${what} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/**
 * Live statistics of a model, computed on the GPU by forward hooks on read steps and read back
 * without waiting (see `attachProbes`). The loop calls `step()` once per training step and,
 * for update ratios, `beforeOptimizerStep()` / `afterOptimizerStep()` around the optimizer.
 */
export class Probes {
  readonly every: number;
  /** Sinks receiving the records; add or remove sinks at any time. */
  readonly sinks: StatsSink[];
  private stepNo: number;
  private state: StepState | null = null;
  private readonly layers = new Map<string, LayerEntry>();
  private readonly histograms: HistogramProbe[];
  private readonly params: ParamProbe | null;
  private readonly paramNames: string[];
  private readonly handles: HookHandle[] = [];
  private readonly trainingOnly: boolean;
  private readonly previousInputs = new Map<string, ChannelStats>();
  private tail: Promise<void> = Promise.resolve();
  private failures: unknown[] = [];
  private detached = false;

  constructor(model: AnyModule, options: ProbeOptions = {}) {
    const { every = 10, histograms = [], sinks = [], params = true, trainingOnly = true, startStep = 0 } = options;
    this.every = checkCount('every', every, 1);
    this.stepNo = checkCount('startStep', startStep, 0);
    this.sinks = [...sinks];
    this.trainingOnly = trainingOnly;
    const modules = new Map(model.namedModules());
    this.histograms = histograms.map((h) => new HistogramProbe(typeof h === 'string' ? { layer: h } : h));
    const seen = new Set<string>();
    for (const h of this.histograms) {
      if (!modules.has(h.layer)) {
        const names = [...modules.keys()].filter((n) => n !== '');
        throw new Error(`attachProbes: no layer named "${h.layer}" for a histogram (layers: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', ...' : ''})`);
      }
      if (seen.has(h.layer)) throw new Error(`attachProbes: histogram of "${h.layer}" given twice`);
      seen.add(h.layer);
    }
    const paramList = params ? model.namedParameters() : [];
    this.params = paramList.length > 0 ? new ParamProbe(paramList) : null;
    this.paramNames = paramList.map(([n]) => n);
    for (const [name, module] of modules) {
      const target = targetOf(module);
      if (target) {
        this.layers.set(name, { name, module, target });
        this.handles.push(module.registerForwardHook((m: AnyModule, inputs: unknown[], output: unknown) => this.onLayer(name, target, m, inputs, output)));
      }
    }
    for (const h of this.histograms) {
      this.handles.push(modules.get(h.layer)!.registerForwardHook((m: AnyModule, inputs: unknown[], output: unknown) => this.onHistogram(h, m, inputs, output)));
    }
    this.state = this.openState();
  }

  /** The index of the current training step. */
  get stepIndex(): number {
    return this.stepNo;
  }

  /** Whether the current step is a read step (its index a multiple of `every`) and the probes are attached. */
  get isReadStep(): boolean {
    return this.state !== null;
  }

  /** Names of the probed layers (norm layers and ReLUs), in the model's order. */
  get probedLayers(): string[] {
    return [...this.layers.keys()];
  }

  /**
   * What the probed layer `name` is: a norm layer (`running`: it keeps running statistics, which
   * its records report) or a ReLU; undefined when it is not probed.
   */
  layerKind(name: string): ProbedLayerKind | undefined {
    const target = this.layers.get(name)?.target;
    if (!target) return undefined;
    return target.kind === 'norm' ? { kind: 'norm', running: target.running !== null } : { kind: 'relu' };
  }

  /**
   * Ends the current training step: on a read step, queues the statistics gathered and starts
   * reading them back (records reach the sinks later, in step order); then moves to the next
   * step. Call it once per step, after the optimizer step.
   */
  step(): void {
    const state = this.state;
    this.state = null;
    if (state) this.close(state);
    this.stepNo++;
    this.state = this.openState();
  }

  /** On a read step: gradient norms, and a copy of each weight for the update ratio. Call before `optimizer.step()`. */
  beforeOptimizerStep(): void {
    const s = this.state;
    if (!s || !this.params || s.beforeOptimizer) return;
    s.beforeOptimizer = true;
    this.params.beforeStep(s.batch);
  }

  /** On a read step: the size of the update just made (‖Δw‖). Call after `optimizer.step()`. */
  afterOptimizerStep(): void {
    const s = this.state;
    if (!s || !this.params || !s.beforeOptimizer || s.afterOptimizer) return;
    s.afterOptimizer = true;
    this.params.afterStep(s.batch);
  }

  /**
   * Resolves when every record whose readback has started has reached the sinks and the sinks
   * have flushed. Rejects with the first error a readback or a sink raised since the last flush.
   */
  async flush(): Promise<void> {
    let awaited: Promise<void>;
    do {
      awaited = this.tail;
      await awaited;
    } while (awaited !== this.tail);
    const flushed = await Promise.allSettled(this.sinks.map((s) => s.flush?.()));
    for (const r of flushed) if (r.status === 'rejected') this.failures.push(r.reason);
    if (this.failures.length > 0) {
      const first = this.failures[0];
      this.failures = [];
      throw first instanceof Error ? first : new Error(String(first));
    }
  }

  /**
   * Removes every hook and frees what the current step gathered. Readbacks already started
   * still reach the sinks (await `flush()` for them); later steps do nothing.
   */
  detach(): void {
    if (this.detached) return;
    this.detached = true;
    for (const h of this.handles) h.remove();
    this.handles.length = 0;
    const state = this.state;
    this.state = null;
    if (state) {
      state.batch.dispose();
      for (const h of this.histograms) h.forget(state.step);
    }
    this.params?.disposeCopies();
  }

  private openState(): StepState | null {
    if (this.detached || this.stepNo % this.every !== 0) return null;
    return { step: this.stepNo, batch: new ReadbackBatch(), fired: new Map(), histogramsTaken: new Set(), beforeOptimizer: false, afterOptimizer: false };
  }

  /** The read step's state when a call of m is to be probed, else null. */
  private readingFor(m: AnyModule): StepState | null {
    const s = this.state;
    return s && (!this.trainingOnly || m.training) ? s : null;
  }

  private onLayer(name: string, target: Target, m: AnyModule, inputs: unknown[], output: unknown): void {
    const s = this.readingFor(m);
    if (!s || s.fired.has(name)) return; // a layer called twice in a step is probed on its first call
    const x = inputs[0];
    if (!(x instanceof Tensor) || !(output instanceof Tensor)) return;
    s.fired.set(name, s.fired.size);
    tidy(() => noGrad(() => probeLayer(s.batch, name, target, x, output)));
  }

  private onHistogram(h: HistogramProbe, m: AnyModule, inputs: unknown[], output: unknown): void {
    const s = this.readingFor(m);
    if (!s || s.histogramsTaken.has(h.layer)) return;
    const t = h.of === 'input' ? inputs[0] : output;
    if (!(t instanceof Tensor)) {
      throw new Error(`attachProbes: histogram of "${h.layer}" (${m.typeName}): its ${h.of} is not a tensor`);
    }
    s.histogramsTaken.add(h.layer);
    tidy(() => noGrad(() => h.probe(s.batch, s.step, t)));
  }

  private close(state: StepState): void {
    for (const name of state.fired.keys()) {
      const entry = this.layers.get(name)!;
      probeLayerState(state.batch, name, entry.target);
    }
    this.params?.close(state.batch);
    let reading: Promise<Map<string, Float32Array>>;
    try {
      reading = state.batch.start();
    } catch (e) {
      for (const h of this.histograms) h.forget(state.step);
      throw e;
    }
    const previous = this.tail;
    // Records are emitted in step order whatever order the readbacks finish in.
    this.tail = Promise.allSettled([previous, reading])
      .then(async ([, r]) => {
        if (r.status === 'rejected') throw r.reason;
        await this.emit(this.record(state, r.value));
      })
      .catch((e: unknown) => {
        this.failures.push(e);
      });
  }

  private record(state: StepState, values: Map<string, Float32Array>): StatsRecord {
    const record: StatsRecord = { step: state.step, layers: {}, params: {}, histograms: {}, nonFinite: [], nonFiniteParams: [] };
    const fired = [...state.fired].sort((a, b) => a[1] - b[1]);
    for (const [name, order] of fired) {
      const { module, target } = this.layers.get(name)!;
      const layer = layerRecord(values, name, module.typeName, order, target);
      if (target.kind === 'norm' && layer.input) {
        const previous = this.previousInputs.get(name);
        layer.covariateShift = previous ? covariateShift(previous, layer.input, target.eps) : null;
        this.previousInputs.set(name, layer.input);
      }
      record.layers[name] = layer;
      if (hasNonFinite(layer)) record.nonFinite.push(name);
    }
    for (const name of this.paramNames) {
      const p = paramRecord(values, name);
      record.params[name] = p;
      if ((p.gradNorm !== null && !Number.isFinite(p.gradNorm)) || !Number.isFinite(p.weightNorm)) record.nonFiniteParams.push(name);
    }
    for (const h of this.histograms) {
      const r = h.record(values, state.step);
      if (r) record.histograms[h.layer] = r;
    }
    return record;
  }

  private async emit(record: StatsRecord): Promise<void> {
    const written = await Promise.allSettled(this.sinks.map((s) => s.write(record)));
    for (const r of written) if (r.status === 'rejected') this.failures.push(r.reason);
  }
}

/**
 * Attaches statistics probes to a model. On every `every`-th training step, forward hooks
 * compute on the GPU, with core ops, for each normalization layer the per-channel batch mean
 * and variance of its input and output (pre-ReLU), its running statistics and its scale and
 * shift; for each ReLU module (models put one after each norm, e.g. relu{i} after bn{i} in
 * `smallCnn`) the dead fraction and the activation's mean and standard deviation; for each
 * parameter the gradient norm and, with `beforeOptimizerStep()` / `afterOptimizerStep()`, the
 * update-to-weight ratio ‖Δw‖/‖w‖; and histograms of the layers named in `histograms`.
 * `step()` starts one readback of it all without waiting; the record reaches the sinks when it
 * arrives. Other steps do no GPU work.
 */
export function attachProbes(model: AnyModule, options: ProbeOptions = {}): Probes {
  return new Probes(model, options);
}
