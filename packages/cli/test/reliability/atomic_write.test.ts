// A checkpoint written with writeAtomic survives kill -9 at any moment: the path holds one whole
// version, the old or the new, never part of one. A run that starts in the folder afterwards
// removes the temporary files the killed writer left, and nothing else.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RunFiles } from '../../src/train/outputs.ts';
import { root } from '../train_helpers.ts';
import { atomicVersion } from './fixtures/atomic_versions.ts';

const writer = fileURLToPath(new URL('./fixtures/atomic_writer.ts', import.meta.url));
const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Starts the writer on `path`, kills it with SIGKILL `delayMs` after it reports `writes` completed writes; returns its pid. */
function killDuringWrites(path: string, writes: number, delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, path], { cwd: root });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!killed && stdout.includes(`wrote ${writes}\n`)) {
        killed = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve(child.pid!);
      else reject(new Error(`the writer ended by itself (${code}): ${stderr}`));
    });
  });
}

describe('writeAtomic under kill -9', () => {
  it('leaves a whole version every time; a run starting in the folder removes the stale temporary files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'welford-kill-'));
    const target = join(dir, 'checkpoint.safetensors');
    const versions = new Set([sha(atomicVersion(0)), sha(atomicVersion(1))]);
    const pids: number[] = [];
    let interrupted = 0;
    // Killed at several moments: right after a write, and a little into the next ones.
    for (const [writes, delayMs] of [[1, 0], [2, 1], [3, 3], [5, 7], [8, 15], [13, 2], [21, 30], [4, 0]]) {
      const pid = await killDuringWrites(target, writes, delayMs);
      pids.push(pid);
      const bytes = new Uint8Array(readFileSync(target));
      expect(versions.has(sha(bytes)), `after kill -9 at write ${writes} + ${delayMs} ms the file is ${bytes.length} bytes of neither version`).toBe(true);
      if (existsSync(`${target}.${pid}.tmp`)) interrupted++;
    }
    // Most kills land inside a write (it is nearly all the writer does): the test saw some.
    expect(interrupted).toBeGreaterThan(0);

    // Temporary files of a live process (this one) and files that are not a run's stay.
    const live = `checkpoint.safetensors.${process.pid}.tmp`;
    writeFileSync(join(dir, live), 'in progress');
    writeFileSync(join(dir, 'notes.123.tmp'), 'mine');
    new RunFiles(dir, { overwrite: true });
    const left = readdirSync(dir).sort();
    for (const pid of pids) expect(left.filter((n) => n.includes(`.${pid}.tmp`))).toEqual([]);
    expect(left).toEqual([live, 'metrics.jsonl', 'notes.123.tmp', 'stats.jsonl']);
  }, 120_000);
});
