// `window.playgroundState`: what the page shows, as plain numbers, for browser tests and for
// anyone poking at the page from the console. Written by the app, never read by it.
import type { MemoryReport } from '@welford/core';

/** One chart's content: its series and how many finite values each holds. */
export interface ChartState {
  series: string[];
  points: number[];
}

/** The experiment shown in the lab: how far it got and what it found. */
export interface ExperimentState {
  name: string;
  running: boolean;
  done: boolean;
  holds: boolean | null;
  verdict: string;
  /** Table rows and chart points measured so far. */
  rows: number;
  points: number;
  /** Optimizer steps its training took. */
  steps: number;
  /** The steps its plan announced at the start (null: shown from an earlier visit). */
  planned: number | null;
  seconds: number;
  /** Why it stopped early (stopped or failed), else null. */
  error: string | null;
  /** Shown from an earlier visit (kept in IndexedDB), not measured by this page. */
  restored: boolean;
}

export interface PlaygroundState {
  /**
   * 'loading' (the first model is on its way), 'building' (a new model replaces the last: new
   * settings, Reset), 'ready' (a model is built), 'no-webgpu', 'lost', or 'error'.
   */
  phase: 'loading' | 'building' | 'no-webgpu' | 'ready' | 'lost' | 'error';
  /** What the page is waiting for while loading or building, as its progress line shows it (null: nothing). */
  progress: { task: string; label: string; done: number | null; total: number | null } | null;
  /** The waits shown while the current model was on its way, in order (their `task`s). */
  waits: string[];
  /** Train was pressed while a model was being built: training starts once it is ready. */
  queuedStart: boolean;
  /** The run's state: 'paused', 'running', 'stepping', 'diverged', 'failed', 'lost' (its device was lost). */
  run: string;
  backend: 'webgpu' | 'cpu' | null;
  adapter: string | null;
  /** The configuration's query string (what the URL holds). */
  query: string;
  step: number;
  epoch: number;
  stepsPerSecond: number;
  /** Training losses read back, [step, loss]. */
  losses: [number, number][];
  /** Test evaluations. */
  tests: { step: number; loss: number; accuracy: number; miou: number | null }[];
  /** Steps of the stats records received. */
  records: number[];
  /** Per chart id. */
  charts: Record<string, ChartState>;
  /** Images in the prediction grid, and the step they show. */
  predictions: { count: number; step: number };
  memory: MemoryReport | null;
  notices: { key: string; kind: string; text: string }[];
  /** The last failure message (a refused checkpoint, a diverged run). */
  error: string | null;
  /** Step of the run restored from IndexedDB at load (null: none). */
  restoredStep: number | null;
  /** The loss card explains why the loss sits at ln(classes) (a model without norms on its plateau). */
  plateauNote: boolean;
  /** Times a checkpoint was written to IndexedDB. */
  saves: number;
  /** Times Forget saved run deleted what IndexedDB kept. */
  forgotten: number;
  /** Step of the newest checkpoint taken (what Resume after a lost device goes back to; null: none yet). */
  savedStep: number | null;
  /** The lab's experiment (null: none run yet). */
  experiment: ExperimentState | null;
}

export function initialState(): PlaygroundState {
  return {
    phase: 'loading',
    progress: null,
    waits: [],
    queuedStart: false,
    run: 'paused',
    backend: null,
    adapter: null,
    query: '',
    step: 0,
    epoch: 0,
    stepsPerSecond: 0,
    losses: [],
    tests: [],
    records: [],
    charts: {},
    predictions: { count: 0, step: -1 },
    memory: null,
    notices: [],
    error: null,
    restoredStep: null,
    plateauNote: false,
    saves: 0,
    forgotten: 0,
    savedStep: null,
    experiment: null,
  };
}

declare global {
  interface Window {
    playgroundState: PlaygroundState;
    /** Hooks for tests and the console. */
    playground: {
      /** Destroys the GPU device, as a driver reset would. */
      loseDevice(): void;
      /** A hash of the model's saved state (pauses training while it reads), to tell whether the weights changed. */
      weightsChecksum(): Promise<string>;
      /** The same hash of the newest checkpoint taken (null: none yet). */
      savedChecksum(): string | null;
      /** Runs the lab's experiment `name`, as its button does. */
      runExperiment(name: string): void;
    };
  }
}
