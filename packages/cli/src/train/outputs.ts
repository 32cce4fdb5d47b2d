// Node: the files a run writes in its folder: metrics.jsonl and stats.jsonl as it goes,
// checkpoint.safetensors and run.json at the end, each of those two written whole
// (atomic_file.ts), so that no reader ever sees a partial one. A folder that holds an earlier
// run is used only when the caller says to overwrite it. A file that cannot be written is a
// RunError naming it; an append that fails while training goes to the caller's handler, so the
// run can stop cleanly instead of throwing inside a promise callback.
import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { toJsonLine, toJsonText, type StatsSink } from '@welford/stats';
import { RunError } from '../errors.ts';
import { overwriteRefusal } from '../existing_outputs.ts';
import { removeStaleTemporaries, writeAtomic } from './atomic_file.ts';
import type { TrainConfig } from './config.ts';
import { fileErrorReason } from './file_errors.ts';

/**
 * A path as the user meant it: relative to the folder the command was typed in (pnpm runs root
 * scripts from the repository root and says where the user was in INIT_CWD).
 */
export function userPath(path: string): string {
  const event = process.env.npm_lifecycle_event;
  const base = (event === 'welford' || event === 'conformance') && process.env.INIT_CWD ? process.env.INIT_CWD : process.cwd();
  return resolve(base, path);
}

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** runs/<model>-<norm>-<dataset>-<date>, with -2, -3, ... when that folder exists already. */
export function defaultOutDir(config: TrainConfig, now = new Date()): string {
  const base = userPath(join('runs', `${config.model}-${config.norm}-${config.dataset}-${stamp(now)}`));
  let dir = base;
  for (let k = 2; existsSync(dir); k++) dir = `${base}-${k}`;
  return dir;
}

/** The files of a run, by name; a folder holding any of them holds a run. */
export const RUN_FILE_NAMES = ['run.json', 'metrics.jsonl', 'stats.jsonl', 'checkpoint.safetensors'] as const;

/** The run files already in `dir` (none when it does not exist). */
export function earlierRunFiles(dir: string): string[] {
  return RUN_FILE_NAMES.filter((name) => existsSync(join(dir, name)));
}

/** Refuses a folder that holds an earlier run (a UsageError), unless `overwrite`. */
export function checkOutDir(dir: string, overwrite: boolean): void {
  const earlier = earlierRunFiles(dir);
  if (earlier.length > 0 && !overwrite) {
    throw overwriteRefusal(`--out ${dir} already holds a run (${earlier.join(', ')})`, '--out');
  }
}

/** A file that could not be written, and why. */
export interface WriteFailure {
  path: string;
  reason: string;
}

/** Options of `RunFiles`. */
export interface RunFilesOptions {
  /** Replace the files of an earlier run in the folder (default false: refuse the folder). */
  overwrite?: boolean;
  /** Hears the first append that fails (metrics.jsonl, stats.jsonl); without it, appends throw. */
  onWriteFailure?(failure: WriteFailure): void;
}

/** `fn()`, with a file system error turned into a RunError that names `path`. */
function naming<T>(path: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new RunError(`cannot ${what} ${path}: ${fileErrorReason(e)}`);
  }
}

/** The files of one run's folder. */
export class RunFiles {
  readonly metrics: string;
  readonly stats: string;
  readonly checkpoint: string;
  readonly runJson: string;
  /** The first append that failed; the file is not appended to after it. */
  writeFailure: WriteFailure | null = null;
  private readonly onWriteFailure: ((failure: WriteFailure) => void) | null;

  /**
   * Creates the folder, removes the temporary files a killed run left there, and starts empty
   * JSON-lines files. A folder holding an earlier run is refused (UsageError) unless `overwrite`;
   * then its files are replaced, and files that are not a run's stay.
   */
  constructor(readonly dir: string, { overwrite = false, onWriteFailure }: RunFilesOptions = {}) {
    this.metrics = join(dir, 'metrics.jsonl');
    this.stats = join(dir, 'stats.jsonl');
    this.checkpoint = join(dir, 'checkpoint.safetensors');
    this.runJson = join(dir, 'run.json');
    this.onWriteFailure = onWriteFailure ?? null;
    naming(dir, 'create the run folder', () => mkdirSync(dir, { recursive: true }));
    checkOutDir(dir, overwrite);
    naming(dir, 'clean up the run folder', () => removeStaleTemporaries(dir, ['run.json', 'checkpoint.safetensors']));
    // A run that fails must not leave an earlier run's checkpoint or run.json looking like its own.
    for (const path of [this.checkpoint, this.runJson]) naming(path, 'remove', () => rmSync(path, { force: true }));
    for (const path of [this.metrics, this.stats]) naming(path, 'write', () => writeFileSync(path, ''));
  }

  /** One line of metrics.jsonl (non-finite numbers as the strings "NaN", "Infinity"). */
  appendMetrics(record: object): void {
    this.append(this.metrics, `${toJsonText(record)}\n`);
  }

  /** One line of stats.jsonl, already serialised. */
  appendStatsLine(line: string): void {
    this.append(this.stats, `${line}\n`);
  }

  /** A statistics sink writing stats.jsonl (as `jsonLinesSink` would), its failures reported as appends' are. */
  statsSink(): StatsSink {
    return { write: (record) => this.appendStatsLine(toJsonLine(record)) };
  }

  writeCheckpoint(bytes: Uint8Array): void {
    naming(this.checkpoint, 'write', () => writeAtomic(this.checkpoint, bytes));
  }

  writeRunJson(run: object): void {
    naming(this.runJson, 'write', () => writeAtomic(this.runJson, `${toJsonText(run, 2)}\n`));
  }

  private append(path: string, text: string): void {
    // One failure per run is enough to stop it; later lines would fail the same way.
    if (this.writeFailure !== null) return;
    try {
      appendFileSync(path, text);
    } catch (e) {
      const failure = { path, reason: fileErrorReason(e) };
      if (!this.onWriteFailure) throw new RunError(`cannot write ${path}: ${failure.reason}`);
      this.writeFailure = failure;
      this.onWriteFailure(failure);
    }
  }
}
