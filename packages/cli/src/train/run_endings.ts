// Node: how a `welford train` run ends, each ending recorded in run.json. Finished: the
// checkpoint and run.json, exit 0. Interrupted by SIGINT or SIGTERM: the weights as they are
// and run.json "interrupted", exit 130 or 143. Stopped because a file could not be written, or
// failed (a NaN loss, a missing file): run.json "failed", exit 1 through a RunError. A write
// that fails on the way out is said in one more line, never as a stack trace.
import { NonFiniteLossError } from '@welford/layers';
import { RunError } from '../errors.ts';
import { exitBySignal, SIGNAL_EXIT, type StopSignal } from './interrupts.ts';
import type { RunFiles, WriteFailure } from './outputs.ts';
import { testSummary, type ProgressPrinter, type TextOut } from './progress.ts';
import type { StoppedTraining, TrainingResult } from './run_training.ts';

/** What every run.json of the run holds, and where its endings are told. */
export interface RunContext {
  files: RunFiles;
  /** command, runtime, startedAt, config. */
  info: Record<string, unknown>;
  startedAt: Date;
  printer: ProgressPrinter;
  /** Where the line about an interrupt goes (stderr). */
  err: TextOut;
  /** Set once run.json has its final word, so that a second interrupt leaves it be. */
  recorded: boolean;
}

function wallSeconds(run: RunContext): number {
  return (Date.now() - run.startedAt.getTime()) / 1000;
}

/** Runs a write; returns null, or the line saying why it failed (the run is ending: no throw). */
function attempt(write: () => void): string | null {
  try {
    write();
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Writes run.json; returns null, or the line saying why it could not be written. */
function tryRunJson(run: RunContext, fields: Record<string, unknown>): string | null {
  return attempt(() => {
    run.files.writeRunJson({ ...run.info, ...fields, wallSeconds: wallSeconds(run) });
    run.recorded = true;
  });
}

/** Writes the checkpoint when there is one; returns null, or the line saying why it could not be written. */
function tryCheckpoint(run: RunContext, bytes: Uint8Array | null): string | null {
  return bytes === null ? null : attempt(() => run.files.writeCheckpoint(bytes));
}

const lines = (...parts: (string | null)[]): string => parts.filter((p) => p !== null).join('\n');

/** A finished run: checkpoint, run.json, the summary; exit status 0. */
export function recordFinished(run: RunContext, result: TrainingResult): number {
  const { files, printer } = run;
  files.writeCheckpoint(result.checkpoint);
  const seconds = wallSeconds(run);
  files.writeRunJson({ ...run.info, status: 'finished', adapter: result.adapter, wallSeconds: seconds, trainSeconds: result.trainSeconds, steps: result.steps, samples: result.samples, epochs: result.epochs, test: result.test, replicaSpread: result.replicaSpread });
  run.recorded = true;
  printer.end();
  printer.line(`test ${testSummary(result.test)} on ${result.test.samples} samples after ${result.steps} steps (${seconds.toFixed(1)} s)`);
  if (result.replicaSpread) {
    const spread = result.replicaSpread.map((s) => `${s.layer} ${s.runningMean.toPrecision(2)}/${s.runningVar.toPrecision(2)}`).join(', ');
    printer.line(`replicas' running statistics apart by (mean/var, largest over channels): ${spread || 'no batch norm'}`);
  }
  printer.line(`wrote ${files.dir}/{metrics.jsonl, stats.jsonl, checkpoint.safetensors, run.json}`);
  return 0;
}

/**
 * A run stopped by SIGINT or SIGTERM: the weights as they are (none before the first step) and
 * run.json "interrupted" with the step reached; returns the signal's exit status.
 */
export function recordInterrupted(run: RunContext, signal: StopSignal, stopped: StoppedTraining | null, steps: number): number {
  run.printer.end();
  const checkpoint = stopped?.checkpoint ?? null;
  const checkpointError = tryCheckpoint(run, checkpoint);
  const progress = stopped ? { adapter: stopped.adapter, trainSeconds: stopped.trainSeconds, samples: stopped.samples, epochs: stopped.epochs } : {};
  const runJsonError = tryRunJson(run, { status: 'interrupted', signal, steps, ...progress, ...(checkpointError ? { error: checkpointError } : {}) });
  const saved = [checkpoint !== null && checkpointError === null ? 'checkpoint.safetensors' : null, runJsonError === null ? 'run.json' : null].filter((s) => s !== null);
  const where = steps === 0 ? 'before training started' : `at step ${steps}`;
  const wrote = saved.length > 0 ? `; wrote ${saved.join(' and ')} in ${run.files.dir}` : '';
  run.err.write(`${lines(`welford train: interrupted by ${signal} ${where}${wrote}`, checkpointError, runJsonError)}\n`);
  return SIGNAL_EXIT[signal];
}

/**
 * A run stopped because metrics.jsonl or stats.jsonl could not be written: the weights as they
 * are are still saved (nothing trained is lost), run.json says "failed"; throws the RunError.
 */
export function recordWriteFailure(run: RunContext, failure: WriteFailure, stopped: StoppedTraining | TrainingResult | null, steps: number): never {
  run.printer.end();
  const error = `cannot write ${failure.path}: ${failure.reason}`;
  const checkpoint = stopped?.checkpoint ?? null;
  const checkpointError = tryCheckpoint(run, checkpoint);
  const runJsonError = tryRunJson(run, { status: 'failed', error, steps });
  const kept = checkpoint !== null && checkpointError === null ? `; the weights of step ${steps} are in ${run.files.checkpoint}` : '';
  throw new RunError(lines(`${error}; training stopped at step ${steps}${kept}`, checkpointError, runJsonError));
}

/** A run that failed with `e`: run.json "failed"; throws what main reports (a RunError for what the user can act on). */
export function recordFailed(run: RunContext, e: unknown): never {
  run.printer.end();
  const message = e instanceof Error ? e.message : String(e);
  // When run.json itself was what failed, it is said once.
  const again = tryRunJson(run, { status: 'failed', error: message });
  const runJsonError = again === message ? null : again;
  if (e instanceof NonFiniteLossError || (e instanceof Error && e.name === 'NonFiniteLossError')) {
    throw new RunError(lines(`${message.replace(/^fit: /, '')}\ntraining stopped; no checkpoint written (metrics and statistics so far are in ${run.files.dir})`, runJsonError));
  }
  if (e instanceof RunError) throw new RunError(lines(message, runJsonError));
  if (runJsonError) run.err.write(`welford train: ${runJsonError}\n`);
  throw e;
}

/**
 * A second SIGINT or SIGTERM: no more waiting. run.json says "interrupted" (no checkpoint) unless
 * it was already written; then the process ends by the signal (status 130 or 143).
 */
export function exitAtOnce(err: TextOut, run: RunContext | null, signal: StopSignal, steps: number): void {
  let note = 'nothing written';
  if (run) {
    run.printer.end();
    if (run.recorded) note = `run.json already written in ${run.files.dir}`;
    else {
      const runJsonError = tryRunJson(run, { status: 'interrupted', signal, steps, error: `${signal} twice: exited without saving the weights` });
      note = runJsonError ?? `no checkpoint; wrote run.json in ${run.files.dir}`;
    }
  }
  err.write(`welford train: ${signal} again: exiting at once at step ${steps} (${note})\n`);
  exitBySignal(signal);
}
