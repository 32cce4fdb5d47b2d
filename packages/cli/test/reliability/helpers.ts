// What the reliability tests share: a `welford` child process that the test can signal while it
// runs, waiting on the run's progress (a file, a line of output) instead of fixed sleeps, tiny
// training runs, and checks of the files a run leaves behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { root } from '../train_helpers.ts';

const main = join(root, 'packages/cli/src/main.ts');

/** A tiny run on SwiftShader: a two-stage small CNN of width 4 on 256 MNIST digits. */
export const TINY = ['train', '--model', 'small-cnn', '--depth', '2', '--width', '4', '--norm', 'batch', '--dataset', 'mnist', '--train-limit', '256', '--test-limit', '64', '--batch', '16', '--stats-every', '0'];

/** A run long enough to be stopped while it trains (1600 steps; a metrics line every step). */
export const LONG = [...TINY, '--log-every', '1', '--epochs', '100', '--steps', '1600'];

/** `args` with `flag` set to `value` (replaced where given, added where not). */
export function withFlag(args: readonly string[], flag: string, value: string): string[] {
  const out = [...args];
  const i = out.indexOf(flag);
  if (i >= 0) out[i + 1] = value;
  else out.push(flag, value);
  return out;
}

export interface Ended {
  /** The exit status as a shell reports it: the code, or 128 + the signal's number. */
  status: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running `welford` (node with tsx on the sources), its output so far, and its end. */
export class WelfordProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly ended: Promise<Ended>;
  private exited = false;

  constructor(args: readonly string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { cwd: root, env: { ...process.env, FORCE_COLOR: '0', ...env } });
    this.child.stdout!.on('data', (d) => (this.stdout += d));
    this.child.stderr!.on('data', (d) => (this.stderr += d));
    this.ended = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code, signal) => {
        this.exited = true;
        const status = code ?? 128 + (signal ? constants.signals[signal] : 0);
        resolve({ status, code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** Resolves once `ready()` holds (polled every 50 ms); rejects if the process ends first or after `timeoutMs`. */
  async until(what: string, ready: () => boolean, timeoutMs = 120_000): Promise<void> {
    const start = Date.now();
    while (!ready()) {
      if (this.exited) throw new Error(`welford ended before ${what}:\n${this.stdout}\n${this.stderr}`);
      if (Date.now() - start > timeoutMs) throw new Error(`no ${what} after ${timeoutMs / 1000} s:\n${this.stdout}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

/** Runs `welford ARGS` to its end. */
export function welfordRun(args: readonly string[], env: Record<string, string> = {}): Promise<Ended> {
  return new WelfordProcess(args, env).ended;
}

/** Whether `path` holds at least one whole line. */
export function hasLine(path: string): boolean {
  return existsSync(path) && statSync(path).isFile() && readFileSync(path, 'utf8').includes('\n');
}

/**
 * The lines of a JavaScript stack trace in `text` ("    at f (file.ts:1:2)"). Dawn's own warnings
 * on a machine without a GPU name C++ sources ("at CheckVkSuccessImpl (...VulkanError.cpp:106)");
 * those are the driver's, not a stack of ours.
 */
export function jsStackLines(text: string): string[] {
  return text.split('\n').filter((l) => /^\s+at /.test(l) && !/\.(cpp|cc|h):\d+\)?$/.test(l));
}

/** The lines of stderr that are welford's (Dawn's warnings about missing Vulkan drivers left out). */
export function welfordLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l !== '' && !/vk|vulkan|CheckVkSuccessImpl/i.test(l));
}

/** sha256 of every file in `dir`, by name. */
export function hashFolder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) out[name] = createHash('sha256').update(readFileSync(join(dir, name))).digest('hex');
  return out;
}
