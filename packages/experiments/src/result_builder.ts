// Builds an experiment's result as it is measured: rows and points are added as they arrive,
// and the caller's `onUpdate` sees the result grow (at most every UPDATE_MS, and at the end).
import { ExperimentAborted, type Cell, type ExperimentContext, type ExperimentResult, type ResultChart, type ResultColumn, type ResultTable, type RunOptions } from './types.ts';

/** The least time between two live updates. */
const UPDATE_MS = 100;

/** What an experiment says about itself. */
export interface ExperimentInfo {
  name: string;
  title: string;
  claim: string;
}

/** A table being filled. */
export class TableBuilder {
  constructor(
    private readonly table: ResultTable,
    private readonly changed: () => void,
  ) {}

  /** Appends a row (one cell per column). */
  add(row: Cell[]): void {
    if (row.length !== this.table.columns.length) throw new Error(`table "${this.table.title}": a row needs ${this.table.columns.length} cells, got ${row.length}`);
    this.table.rows.push(row);
    this.changed();
  }

  get rows(): readonly Cell[][] {
    return this.table.rows;
  }
}

/** A chart being filled. */
export class ChartBuilder {
  constructor(
    private readonly chart: ResultChart,
    private readonly changed: () => void,
  ) {}

  /** Adds the point (x, y) to the series `label` (created on first use; `predicted` draws it dashed). */
  point(label: string, x: number, y: number, predicted = false): void {
    let series = this.chart.series.find((s) => s.label === label);
    if (!series) {
      series = { label, points: [], ...(predicted ? { predicted } : {}) };
      this.chart.series.push(series);
    }
    series.points.push([x, y]);
    this.changed();
  }

  /** Adds a whole series at once (a formula's curve, say). */
  line(label: string, points: [number, number][], predicted = false): void {
    for (const [x, y] of points) this.point(label, x, y, predicted);
  }
}

/** The options with their defaults. */
export interface RunSettings {
  quick: boolean;
  seed: number;
}

/** Fills an `ExperimentResult` and keeps the caller informed. */
export class ResultBuilder {
  readonly result: ExperimentResult;
  readonly settings: RunSettings;
  private readonly started = performance.now();
  private lastUpdate = -Infinity;

  constructor(
    info: ExperimentInfo,
    options: RunOptions,
    private readonly context: ExperimentContext,
  ) {
    this.settings = { quick: options.quick ?? false, seed: options.seed ?? 1 };
    this.result = {
      ...info,
      ...this.settings,
      tables: [],
      charts: [],
      verdict: '',
      holds: null,
      work: { steps: 0, samples: 0, measurements: 0 },
      seconds: 0,
      done: false,
    };
  }

  table(title: string, columns: ResultColumn[]): TableBuilder {
    const table: ResultTable = { title, columns, rows: [] };
    this.result.tables.push(table);
    return new TableBuilder(table, () => this.changed());
  }

  chart(spec: Omit<ResultChart, 'series'>): ChartBuilder {
    const chart: ResultChart = { ...spec, series: [] };
    this.result.charts.push(chart);
    return new ChartBuilder(chart, () => this.changed());
  }

  /** Counts optimizer steps and the samples they consumed. */
  trained(steps: number, samples: number): void {
    this.result.work.steps += steps;
    this.result.work.samples += samples;
    this.changed();
  }

  /** Counts forward passes measured outside training. */
  measured(passes = 1): void {
    this.result.work.measurements += passes;
  }

  /** The caller's stop signal. */
  get signal(): AbortSignal | undefined {
    return this.context.signal;
  }

  /** Throws `ExperimentAborted` when the caller has stopped the run. */
  checkStopped(): void {
    if (this.context.signal?.aborted) throw new ExperimentAborted(this.result.name);
  }

  /** The finished result, with the verdict written from the numbers. */
  finish(verdict: string, holds: boolean): ExperimentResult {
    this.result.verdict = verdict;
    this.result.holds = holds;
    this.result.done = true;
    this.result.seconds = (performance.now() - this.started) / 1000;
    this.context.onUpdate?.(this.result);
    return this.result;
  }

  private changed(): void {
    const now = performance.now();
    this.result.seconds = (now - this.started) / 1000;
    if (!this.context.onUpdate || now - this.lastUpdate < UPDATE_MS) return;
    this.lastUpdate = now;
    this.context.onUpdate(this.result);
  }
}
