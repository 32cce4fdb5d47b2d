// What an experiment is and what it gives back: tables, charts and a verdict, all from numbers
// it measured. Both the command line (`welford experiment NAME`) and the playground's presets
// run the same `Experiment` objects and show the same result.
import type { ClassificationDataset } from '@welford/data';

/** A table cell: a number (formatted by its column), text, or null for "not measured". */
export type Cell = number | string | null;

/** A table column: its heading and how its numbers are written. */
export interface ResultColumn {
  label: string;
  /** Digits after the decimal point for numbers (default 3); ignored with `percent` (one digit). */
  digits?: number;
  /** Write numbers in [0, 1] as percentages ("91.2 %"). */
  percent?: boolean;
  /** Write numbers in scientific notation (for values spanning decades). */
  scientific?: boolean;
}

/** One table of an experiment. */
export interface ResultTable {
  title: string;
  columns: ResultColumn[];
  rows: Cell[][];
}

/** One line of a chart: points (x, y) in the order they were measured. */
export interface ResultSeries {
  label: string;
  points: [number, number][];
  /** Drawn dashed: a prediction (a formula) rather than a measurement. */
  predicted?: boolean;
}

/** One chart of an experiment. */
export interface ResultChart {
  title: string;
  /** Axis labels. */
  x: string;
  y: string;
  logX?: boolean;
  logY?: boolean;
  series: ResultSeries[];
}

/** How much real work an experiment did: what its numbers were measured on. */
export interface ExperimentWork {
  /** Optimizer steps taken by every network it trained (0 for experiments that only measure). */
  steps: number;
  /** Training samples those steps consumed. */
  samples: number;
  /** Forward passes measured outside training (evaluation batches, probes). */
  measurements: number;
}

/** What an experiment gives back, also while it runs (with `done` false). */
export interface ExperimentResult {
  name: string;
  title: string;
  /** The claim under test, in one sentence. */
  claim: string;
  quick: boolean;
  seed: number;
  tables: ResultTable[];
  charts: ResultChart[];
  /** What the numbers say about the claim, written from the numbers (empty while running). */
  verdict: string;
  /** Whether the measured numbers agree with the claim; null while running. */
  holds: boolean | null;
  work: ExperimentWork;
  /** Wall-clock seconds so far. */
  seconds: number;
  done: boolean;
}

/** MNIST digits: 1×28×28 images, intensities in [0, 1]. */
export interface DigitsData {
  train: ClassificationDataset;
  test: ClassificationDataset;
}

/** What the caller provides: data, a place for live results, and a way to stop. */
export interface ExperimentContext {
  /** The digits, loaded by the caller's means (a file in Node, a fetched pack in the browser). */
  digits(): Promise<DigitsData>;
  /** Called with the result so far whenever it grows (live charts), and once more when done. */
  onUpdate?(result: ExperimentResult): void;
  /** Stops the experiment between steps: `run` then rejects with `ExperimentAborted`. */
  signal?: AbortSignal;
}

/** Options of a run. */
export interface RunOptions {
  /** A small version (fewer settings, fewer samples) that still trains for real: for CI and a first look. */
  quick?: boolean;
  /** Seed of every initialisation, data order and random draw (default 1). */
  seed?: number;
}

/** What a run will do, known before it starts: enough to show "N of M steps" and a time left while it runs. */
export interface ExperimentPlan {
  /** What the run will show, in one plain sentence for a visitor (e.g. "Test accuracy of batch, group and layer norm after equal training budgets at batch 2 and 32."). */
  shows: string;
  /** Networks it trains (0 for experiments that only measure). */
  networks: number;
  /**
   * Optimizer steps it will take in all: exactly the `result.work.steps` of a finished run with the
   * same options (fewer only where a network's loss goes non-finite and its training stops early).
   */
  steps: number;
}

/** One experiment: a claim and the measurement that tests it. Runs on the current backend. */
export interface Experiment {
  /** The command-line name (kebab-case). */
  name: string;
  title: string;
  claim: string;
  run(context: ExperimentContext, options?: RunOptions): Promise<ExperimentResult>;
  /** What a run with these options will do, known before it starts. */
  plan(options?: RunOptions): ExperimentPlan;
}

/** Thrown by `run` when the context's signal stops it. */
export class ExperimentAborted extends Error {
  constructor(name: string) {
    super(`experiment ${name} was stopped`);
    this.name = 'ExperimentAborted';
  }
}
