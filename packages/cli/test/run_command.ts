// Runs a command as a user would in a shell and collects what it printed: `welford` through the
// package's bin, or any other command (pnpm).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/cli/bin/welford.mjs');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
  /** Wall-clock seconds the command took (reported, never judged). */
  seconds: number;
}

/** Runs `command args` in `cwd` (the repository root unless given), with `env` added to this process's environment. */
export function run(command: string, args: readonly string[], { cwd = root, env = {} }: { cwd?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, FORCE_COLOR: '0', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, lines: stdout.trimEnd().split('\n'), seconds: (performance.now() - started) / 1000 }));
  });
}

/** `welford ARGS` through packages/cli/bin/welford.mjs. */
export const welford = (...args: string[]): Promise<Run> => run(process.execPath, [bin, ...args]);
