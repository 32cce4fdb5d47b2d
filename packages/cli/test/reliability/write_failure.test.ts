// A file that cannot be written while `welford train` runs ends the run cleanly: training stops
// at the next step, the message names the file, run.json says "failed" with the error, and no
// stack trace or unhandled rejection reaches the user. The fault is injected by replacing
// metrics.jsonl (or stats.jsonl) with a folder of the same name once the run has written a line
// to it, so that the next append fails with EISDIR.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSafetensors } from '@welford/layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { readJson } from '../train_helpers.ts';
import { hasLine, jsStackLines, LONG, welfordLines, WelfordProcess, withFlag } from './helpers.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'welford-write-'));
});

interface RunJson {
  status: string;
  error: string;
  steps: number;
  config: Record<string, unknown>;
}

describe('welford train when a JSON-lines file cannot be written mid-run', () => {
  it.each([
    ['metrics.jsonl', LONG],
    ['stats.jsonl', withFlag(LONG, '--stats-every', '1')],
  ])('%s: stops, exits 1 with one message naming the file, and records run.json "failed"', async (name, args) => {
    const out = join(dir, name);
    const file = join(out, name);
    const p = new WelfordProcess([...args, '--out', out]);
    await p.until(`a line in ${name}`, () => hasLine(file));
    rmSync(file);
    mkdirSync(file);
    const r = await p.ended;

    expect(r.status, r.stderr).toBe(1);
    const lines = welfordLines(r.stderr);
    expect(lines).toHaveLength(1);
    const m = /^welford train: cannot write (\S+): EISDIR: illegal operation on a directory; training stopped at step (\d+); the weights of step \2 are in (\S+)$/.exec(lines[0]);
    expect(m, lines[0]).not.toBeNull();
    expect(m![1]).toBe(file);
    expect(m![3]).toBe(join(out, 'checkpoint.safetensors'));
    const steps = Number(m![2]);
    // Stopped long before the 1600 steps the run was asked for.
    expect(steps).toBeGreaterThan(0);
    expect(steps).toBeLessThan(1600);
    expect(r.stderr).not.toContain('internal error');
    expect(r.stderr).not.toContain('Unhandled');
    expect(jsStackLines(r.stderr)).toEqual([]);

    const run = readJson<RunJson>(join(out, 'run.json'));
    expect(run).toMatchObject({ status: 'failed', error: `cannot write ${file}: EISDIR: illegal operation on a directory`, steps });
    // The weights trained so far are kept, with the configuration as a finished run's checkpoint has it.
    const checkpoint = parseSafetensors(new Uint8Array(readFileSync(join(out, 'checkpoint.safetensors'))));
    expect(JSON.parse(checkpoint.metadata['welford.config'])).toEqual(run.config);
    expect(checkpoint.tensors.get('bn1.num_batches_tracked')!.data[0]).toBe(steps);
  }, 240_000);
});
