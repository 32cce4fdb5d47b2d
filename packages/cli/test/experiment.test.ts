// `welford experiment` as a user runs it: an experiment's tables and verdict on stdout, and its
// JSON, Markdown and PNG files; usage errors name what is wrong.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExperimentResult } from '@welford/experiments';
import { describe, expect, it } from 'vitest';
import { readJson, welford } from './train_helpers.ts';

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('welford experiment', () => {
  it('runs an experiment: rows as measured, tables, verdict, and the JSON, Markdown and PNG files', async () => {
    const out = mkdtempSync(join(tmpdir(), 'welford-experiment-'));
    const run = await welford(['experiment', 'running-averages', '--quick', '--seed', '2', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/experiments on webgpu: .* \(quick\)/);
    // Rows are printed as they are measured, then the aligned table and the verdict.
    expect(run.stdout).toMatch(/s {2}t=1 {2}EMA mean=0\.\d{3}/);
    expect(run.stdout).toMatch(/verdict: After 1 batch the running mean is 0\.\d+/);
    expect(run.stdout).toContain('running-averages: holds');
    const saved = readJson<{ adapter: string; date: string; result: ExperimentResult }>(join(out, 'running-averages.json'));
    expect(saved.adapter).toMatch(/^webgpu/);
    expect(saved.result.seed).toBe(2);
    expect(saved.result.quick).toBe(true);
    expect(saved.result.tables[0].rows.length).toBe(6);
    expect(saved.result.work.measurements).toBe(60);
    const markdown = readFileSync(join(out, 'running-averages.md'), 'utf8');
    expect(markdown).toContain('`welford experiment running-averages --quick --seed 2` on webgpu');
    expect(markdown).toMatch(/\| t \| EMA mean \|/);
    expect(markdown).toContain('![Running averages: bias of a zero-initialised EMA](running-averages.png)');
    const { width, height } = pngSize(readFileSync(join(out, 'running-averages.png')));
    // Two charts side by side with title, claim and verdict.
    expect(width).toBeGreaterThan(1000);
    expect(height).toBeGreaterThan(400);
  });

  it('lists the experiments with their claims', async () => {
    const run = await welford(['experiment', '--list']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^running-averages +A running mean that starts at 0/m);
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(10);
  });

  it('refuses unknown experiments and options with the usage', async () => {
    const unknown = await welford(['experiment', 'batchsize']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no experiment named "batchsize"; there are: .*running-averages/);
    expect(unknown.stderr).toContain('usage: welford experiment');
    const none = await welford(['experiment', '--quick']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('name an experiment (or all); --list shows them');
    const seed = await welford(['experiment', 'running-averages', '--seed', '-1']);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toContain('--seed must be a non-negative integer, got "-1"');
  });
});
