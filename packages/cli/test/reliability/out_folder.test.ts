// `welford train --out DIR` never destroys an earlier run: a folder that holds one is refused
// before any work, byte for byte untouched, unless --overwrite; an empty folder, or one with
// unrelated files, is used as it is. An --out that cannot be made is one line naming it.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readJson } from '../train_helpers.ts';
import { hashFolder, jsStackLines, TINY, welfordLines, welfordRun } from './helpers.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'welford-out-'));
});

describe('welford train --out on a folder that holds a run', () => {
  it('is refused with exit 2, every file byte-identical; --overwrite replaces the run', async () => {
    const out = join(dir, 'finished');
    const first = await welfordRun([...TINY, '--steps', '2', '--out', out]);
    expect(first.status, first.stderr).toBe(0);
    writeFileSync(join(out, 'notes.txt'), 'mine\n');
    const before = hashFolder(out);
    expect(Object.keys(before)).toEqual(['checkpoint.safetensors', 'metrics.jsonl', 'notes.txt', 'run.json', 'stats.jsonl']);

    const again = await welfordRun([...TINY, '--steps', '3', '--out', out]);
    expect(again.status, again.stderr).toBe(2);
    expect(again.stderr).toContain(`welford train: --out ${out} already holds a run (run.json, metrics.jsonl, stats.jsonl, checkpoint.safetensors); pass --overwrite to replace it, or choose another --out`);
    expect(again.stderr).toContain('usage: welford train');
    // Refused before any work: nothing loaded, nothing trained.
    expect(again.stdout).toBe('');
    expect(hashFolder(out)).toEqual(before);

    const replaced = await welfordRun([...TINY, '--steps', '3', '--out', out, '--overwrite']);
    expect(replaced.status, replaced.stderr).toBe(0);
    expect(readJson(join(out, 'run.json'))).toMatchObject({ status: 'finished', steps: 3 });
    const after = hashFolder(out);
    for (const name of ['checkpoint.safetensors', 'metrics.jsonl', 'run.json']) expect(after[name], name).not.toBe(before[name]);
    // Files that are not the run's stay as they were.
    expect(after['notes.txt']).toBe(before['notes.txt']);
  }, 240_000);

  it('any one of the run files makes a folder a run (a failed run leaves no checkpoint)', async () => {
    const out = join(dir, 'metrics-only');
    mkdirSync(out);
    writeFileSync(join(out, 'metrics.jsonl'), '{"kind":"step","step":1}\n');
    const r = await welfordRun([...TINY, '--steps', '1', '--out', out]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(`--out ${out} already holds a run (metrics.jsonl)`);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8')).toBe('{"kind":"step","step":1}\n');
  }, 120_000);

  it('an empty existing folder, or one holding only unrelated files, is used as it is', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const a = await welfordRun([...TINY, '--steps', '1', '--out', empty]);
    expect(a.status, a.stderr).toBe(0);
    expect(readdirSync(empty).sort()).toEqual(['checkpoint.safetensors', 'metrics.jsonl', 'run.json', 'stats.jsonl']);

    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'README'), 'not a run\n');
    const b = await welfordRun([...TINY, '--steps', '1', '--out', other]);
    expect(b.status, b.stderr).toBe(0);
    expect(readFileSync(join(other, 'README'), 'utf8')).toBe('not a run\n');
  }, 180_000);
});

describe('welford train --out that cannot be made', () => {
  it('a path under a regular file: exit 1, one line naming the path and the reason, no stack', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const out = join(file, 'run');
    const r = await welfordRun([...TINY, '--steps', '1', '--out', out]);
    expect(r.status, r.stderr).toBe(1);
    expect(welfordLines(r.stderr)).toEqual([`welford train: cannot create the run folder ${out}: ENOTDIR: not a directory`]);
    expect(r.stderr).not.toContain('internal error');
    expect(jsStackLines(r.stderr)).toEqual([]);
  }, 120_000);

  it('a regular file as the folder: exit 1, says a file is in the way', async () => {
    const file = join(dir, 'in-the-way');
    writeFileSync(file, 'x');
    const r = await welfordRun([...TINY, '--steps', '1', '--out', file]);
    expect(r.status, r.stderr).toBe(1);
    expect(welfordLines(r.stderr)).toEqual([`welford train: cannot create the run folder ${file}: a file of that name is in the way (EEXIST)`]);
    expect(readFileSync(file, 'utf8')).toBe('x');
  }, 120_000);
});
