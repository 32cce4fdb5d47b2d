// What the training command-line tests share: running `welford` as a user would (node with
// tsx on the sources), and reading the files a run writes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJsonText } from '@welford/stats';
import { root, run, type Run } from './run_command.ts';

export { root, run, type Run };
const main = join(root, 'packages/cli/src/main.ts');

/** `node --import tsx packages/cli/src/main.ts ARGS`. */
export function welford(args: readonly string[], options: { env?: Record<string, string> } = {}): Promise<Run> {
  return run(process.execPath, ['--import', 'tsx', main, ...args], options);
}

/** The records of a JSON-lines file (non-finite numbers written as strings turned back). */
export function readJsonLines<T = Record<string, unknown>>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => parseJsonText(l) as T);
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
