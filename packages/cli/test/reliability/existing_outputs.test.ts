// No command writes over a user's files unless asked to: `welford experiment --out` holding the
// files it would write, and an existing `--json OUT` of adapt, federated and conformance, are
// refused with exit 2 before any work (nothing printed, nothing loaded), every file byte for
// byte as it was; --overwrite replaces them.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readJson, root } from '../train_helpers.ts';
import { hashFolder, welfordRun, type Ended } from './helpers.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'welford-existing-'));
});

/** The refusal every command gives, for `what` at `paths`. */
const refusal = (command: string, what: string, paths: readonly string[], flag: string): string =>
  `welford ${command}: ${what} already exists: ${paths.join(', ')}; pass --overwrite to replace it, or choose another ${flag}`;

/** Refused as a usage error, before any work: exit 2, the usage, nothing on stdout. */
function expectRefused(r: Ended, command: string, message: string): void {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stderr).toContain(message);
  expect(r.stderr).toContain(`usage: welford ${command}`);
  expect(r.stdout).toBe('');
}

/** A folder holding `files` (name: contents). */
function folderWith(name: string, files: Record<string, string>): string {
  const out = join(dir, name);
  mkdirSync(out, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(out, file), text);
  return out;
}

interface SavedExperiment {
  date: string;
  result: { name: string; quick: boolean };
}

describe('welford experiment --out holding an earlier result', () => {
  it('is refused with exit 2, the files byte-identical (with --no-plot a PNG does not count); --overwrite replaces them', async () => {
    // A full-size result, and its chart, that a --quick run must not replace unasked.
    const earlier = { date: '2000-01-01T00:00:00.000Z', result: { name: 'batch-of-one', quick: false } };
    const out = folderWith('experiments', { 'batch-of-one.json': `${JSON.stringify(earlier)}\n`, 'batch-of-one.png': 'an earlier chart' });
    const before = hashFolder(out);

    const quick = ['experiment', 'batch-of-one', '--quick', '--no-plot', '--out', out];
    const refused = await welfordRun(quick);
    // --no-plot writes no PNG, so only the JSON is in the way.
    expectRefused(refused, 'experiment', refusal('experiment', 'the output', [join(out, 'batch-of-one.json')], '--out'));
    expect(hashFolder(out)).toEqual(before);

    const replaced = await welfordRun([...quick, '--overwrite']);
    expect(replaced.status, replaced.stderr).toBe(0);
    const saved = readJson<SavedExperiment>(join(out, 'batch-of-one.json'));
    expect(saved.result).toMatchObject({ name: 'batch-of-one', quick: true });
    expect(Date.parse(saved.date)).toBeGreaterThan(Date.parse(earlier.date));
    const after = hashFolder(out);
    expect(after['batch-of-one.json']).not.toBe(before['batch-of-one.json']);
    expect(Object.keys(after)).toEqual(['batch-of-one.json', 'batch-of-one.md', 'batch-of-one.png']);
    // Not written with --no-plot, so left as it was.
    expect(after['batch-of-one.png']).toBe(before['batch-of-one.png']);
  }, 300_000);

  it('names every file in the way: the PNG counts when plotting; --list writes nothing and is not refused', async () => {
    const out = folderWith('charts', { 'batch-of-one.png': 'an earlier chart', 'batch-of-one.md': '# earlier\n' });
    const before = hashFolder(out);
    const r = await welfordRun(['experiment', 'batch-of-one', '--quick', '--out', out]);
    expectRefused(r, 'experiment', refusal('experiment', 'the output', [join(out, 'batch-of-one.md'), join(out, 'batch-of-one.png')], '--out'));
    expect(hashFolder(out)).toEqual(before);

    const list = await welfordRun(['experiment', '--list', '--out', out]);
    expect(list.status, list.stderr).toBe(0);
    expect(hashFolder(out)).toEqual(before);
  }, 120_000);
});

describe('an existing --json OUT', () => {
  it('welford adapt refuses it before the checkpoint is read; with --overwrite it goes on to the checkpoint', async () => {
    const json = join(dir, 'adapt.json');
    writeFileSync(json, '{"mine":true}\n');
    // The checkpoint does not exist: a refusal that came after reading it would be exit 1.
    const checkpoint = join(dir, 'absent', 'checkpoint.safetensors');
    const r = await welfordRun(['adapt', '--checkpoint', checkpoint, '--json', json]);
    expectRefused(r, 'adapt', refusal('adapt', 'the --json file', [json], '--json'));
    expect(readFileSync(json, 'utf8')).toBe('{"mine":true}\n');

    const overwrite = await welfordRun(['adapt', '--checkpoint', checkpoint, '--json', json, '--overwrite']);
    expect(overwrite.status, overwrite.stderr).toBe(1);
    expect(overwrite.stderr).toContain(checkpoint);
    expect(readFileSync(json, 'utf8')).toBe('{"mine":true}\n');
  }, 120_000);

  it('welford federated refuses it before loading data or training', async () => {
    const json = join(dir, 'federated.json');
    writeFileSync(json, '{"mine":true}\n');
    // Tiny, so that a run that wrongly went ahead ends soon (and fails on the changed file).
    const tiny = ['--clients', '2', '--rounds', '1', '--local-steps', '1', '--batch', '8', '--train-per-client', '8', '--test-per-client', '8', '--depth', '2', '--width', '4', '--dataset', 'mnist'];
    const r = await welfordRun(['federated', ...tiny, '--json', json]);
    expectRefused(r, 'federated', refusal('federated', 'the --json file', [json], '--json'));
    expect(readFileSync(json, 'utf8')).toBe('{"mine":true}\n');
  }, 120_000);

  it('welford conformance refuses it before reading the case files; --overwrite replaces it', async () => {
    const json = join(dir, 'conformance.json');
    writeFileSync(json, '{"mine":true}\n');
    const cases = join(root, 'packages/cli/fixtures/conformance/relu.json');
    const args = ['conformance', cases, '--backend', 'cpu', '--json', json];
    const r = await welfordRun(args);
    expectRefused(r, 'conformance', refusal('conformance', 'the --json file', [json], '--json'));
    expect(readFileSync(json, 'utf8')).toBe('{"mine":true}\n');

    // A case file given as OUT is refused too, instead of being written over by its own results
    // (a copy: were it not refused, the committed file would be lost).
    const copy = join(dir, 'relu.json');
    copyFileSync(cases, copy);
    const self = await welfordRun(['conformance', copy, '--backend', 'cpu', '--json', copy]);
    expectRefused(self, 'conformance', refusal('conformance', 'the --json file', [copy], '--json'));
    expect(readFileSync(copy).equals(readFileSync(cases))).toBe(true);

    const replaced = await welfordRun([...args, '--overwrite']);
    expect(replaced.status, replaced.stderr).toBe(0);
    expect(readJson(json)).toMatchObject({ version: 1, failed: 0, files: [cases] });
  }, 120_000);
});
