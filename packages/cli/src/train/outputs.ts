// Node: the files a run writes in its folder: metrics.jsonl and stats.jsonl as it goes,
// checkpoint.safetensors and run.json at the end, each written whole to a temporary file and
// renamed into place, so that no reader ever sees a partial one.
import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TrainConfig } from './config.ts';

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

/** Writes `data` to `path` through a temporary file in the same folder and a rename. */
export function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** JSON with non-finite numbers as the strings "NaN", "Infinity", "-Infinity" (as stats.jsonl writes them). */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), indent);
}

/** The files of one run's folder. */
export class RunFiles {
  readonly metrics: string;
  readonly stats: string;
  readonly checkpoint: string;
  readonly runJson: string;

  /** Creates the folder and empties the JSON-lines files of an earlier run there. */
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.metrics = join(dir, 'metrics.jsonl');
    this.stats = join(dir, 'stats.jsonl');
    this.checkpoint = join(dir, 'checkpoint.safetensors');
    this.runJson = join(dir, 'run.json');
    writeFileSync(this.metrics, '');
    // A failed run must not leave an earlier run's checkpoint looking like its own.
    rmSync(this.checkpoint, { force: true });
  }

  /** One line of metrics.jsonl (non-finite numbers as the strings "NaN", "Infinity"). */
  appendMetrics(record: object): void {
    appendFileSync(this.metrics, `${jsonText(record)}\n`);
  }

  /** One line of stats.jsonl, already serialised. */
  appendStatsLine(line: string): void {
    appendFileSync(this.stats, `${line}\n`);
  }

  writeCheckpoint(bytes: Uint8Array): void {
    writeAtomic(this.checkpoint, bytes);
  }

  writeRunJson(run: object): void {
    writeAtomic(this.runJson, `${jsonText(run, 2)}\n`);
  }
}
