// Child processes of the packaging test: run as a user would in a shell (no pnpm or tsx settings
// inherited), with output kept for the report and a watchdog on silence rather than on time.
import { spawn, type ChildProcess } from 'node:child_process';

/** What a finished command printed and how it ended. */
export interface CommandResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** How long a command may print nothing before it is taken for hung (npm installs, builds, training on SwiftShader all print within this). */
export const SILENCE_LIMIT_MS = 10 * 60_000;

/**
 * The environment of a user's shell: this process's, without what pnpm, npm scripts and tsx put
 * there (npm_config_*, npm_package_*, NODE_OPTIONS...), which would change how npm and node behave.
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_|NODE_OPTIONS$|NODE_PATH$|INIT_CWD$|TSX_)/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** Starts `command args` in `cwd`; `onOutput` hears every chunk of stdout and stderr. */
export function start(command: string, args: string[], cwd: string, onOutput?: (text: string) => void): ChildProcess {
  const child = spawn(command, args, { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  if (onOutput) {
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
  }
  return child;
}

/** Runs `command args` in `cwd` to the end; kills it after SILENCE_LIMIT_MS without output. */
export function run(command: string, args: string[], cwd: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let silence: NodeJS.Timeout;
    const child = start(command, args, cwd);
    const watch = (): void => {
      clearTimeout(silence);
      silence = setTimeout(() => child.kill('SIGKILL'), SILENCE_LIMIT_MS);
    };
    watch();
    child.stdout?.on('data', (t: string) => {
      stdout += t;
      watch();
    });
    child.stderr?.on('data', (t: string) => {
      stderr += t;
      watch();
    });
    child.on('error', (e) => {
      clearTimeout(silence);
      reject(new Error(`${command}: could not start: ${e.message}`));
    });
    child.on('close', (status, signal) => {
      clearTimeout(silence);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** Runs a command that must succeed; the error quotes what it printed. */
export async function runOk(command: string, args: string[], cwd: string): Promise<CommandResult> {
  const result = await run(command, args, cwd);
  if (result.status !== 0) {
    const why = result.signal ? `was killed (${result.signal}; silent for ${SILENCE_LIMIT_MS / 60_000} min?)` : `exited with ${result.status}`;
    throw new Error(`\`${[command, ...args].join(' ')}\` ${why}\n${tail(result.stdout + result.stderr)}`);
  }
  return result;
}

/** The last lines of `text`, indented, for an error message. */
export function tail(text: string, lines = 25): string {
  return text
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((l) => `    ${l}`)
    .join('\n');
}
