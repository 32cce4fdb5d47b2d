// What the training command-line tests share: running `welford` as a user would (node with
// tsx on the sources), and reading the files a run writes.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../../', import.meta.url));
const main = join(root, 'packages/cli/src/main.ts');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time of the command in seconds. */
  seconds: number;
}

/** Runs `command args` in `cwd` and collects its output. */
export function run(command: string, args: readonly string[], { cwd = root, env = {} }: { cwd?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, FORCE_COLOR: '0', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, seconds: (performance.now() - start) / 1000 }));
  });
}

/** `node --import tsx packages/cli/src/main.ts ARGS`. */
export function welford(args: readonly string[], options: { env?: Record<string, string> } = {}): Promise<Run> {
  return run(process.execPath, ['--import', 'tsx', main, ...args], options);
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** The records of a JSON-lines file (non-finite numbers written as strings turned back). */
export function readJsonLines<T = Record<string, unknown>>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l, (_k, v: unknown) => (typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v] : v)) as T);
}

export function readJson<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The lines of metrics.jsonl and the test metrics of run.json, as the command writes them. */
export type { StepMetrics as StepLine, TestMetrics as TestLine } from '../src/train/step_log.ts';

/** What `welford eval` printed: "test loss L  accuracy A (C/T)[  mIoU M] on N samples". */
export function parseEval(stdout: string): { loss: number; correct: number; total: number; miou: number | null } {
  const m = /^test loss (\S+)  accuracy \S+ \((\d+)\/(\d+)\)(?:  mIoU (\S+))? on \d+ samples$/m.exec(stdout);
  if (!m) throw new Error(`no result line in the output of welford eval:\n${stdout}`);
  return { loss: Number(m[1]), correct: Number(m[2]), total: Number(m[3]), miou: m[4] === undefined ? null : Number(m[4]) };
}
