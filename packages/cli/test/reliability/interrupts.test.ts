// SIGINT and SIGTERM during `welford train`: the first stops training at the next step boundary,
// saves the weights as they are (a checkpoint `welford eval` reads) and run.json "interrupted"
// with the step and the signal, and exits 130 or 143; a second one exits at once. Each run is
// signalled once it has shown the progress the case needs (a metrics line, an output line).
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSafetensors } from '@welford/layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { onInterrupts } from '../../src/train/interrupts.ts';
import { readJson, welford } from '../train_helpers.ts';
import { hasLine, jsStackLines, LONG, TINY, welfordLines, WelfordProcess, withFlag } from './helpers.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'welford-signals-'));
});

interface RunJson {
  status: string;
  signal: string;
  steps: number;
  error?: string;
  epochs: unknown[];
  config: Record<string, unknown>;
}

/** The checkpoint holds the configuration as a finished run's does, and the weights of step `steps`. */
function expectCheckpointOf(out: string, run: RunJson): void {
  const checkpoint = parseSafetensors(new Uint8Array(readFileSync(join(out, 'checkpoint.safetensors'))));
  expect(JSON.parse(checkpoint.metadata['welford.config'])).toEqual(run.config);
  // Batch norm counts one batch per step taken.
  expect(checkpoint.tensors.get('bn1.num_batches_tracked')!.data[0]).toBe(run.steps);
}

describe('welford train and its first SIGINT or SIGTERM', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s mid-run: exit %i, checkpoint and run.json "interrupted"; eval reads the checkpoint', async (signal, status) => {
    const out = join(dir, signal);
    const p = new WelfordProcess([...LONG, '--out', out]);
    await p.until('a line in metrics.jsonl', () => hasLine(join(out, 'metrics.jsonl')));
    p.kill(signal);
    const r = await p.ended;

    expect(r.status, r.stderr).toBe(status);
    // Exited by itself, after saving: not killed by the signal.
    expect(r.code).toBe(status);
    const run = readJson<RunJson>(join(out, 'run.json'));
    expect(run).toMatchObject({ status: 'interrupted', signal });
    expect(run.steps).toBeGreaterThan(0);
    expect(run.steps).toBeLessThan(1600);
    expect(welfordLines(r.stderr)).toEqual([
      `welford train: ${signal}: stopping at the next step and saving the weights (${signal} again exits at once)`,
      `welford train: interrupted by ${signal} at step ${run.steps}; wrote checkpoint.safetensors and run.json in ${out}`,
    ]);
    expect(jsStackLines(r.stderr)).toEqual([]);
    expectCheckpointOf(out, run);

    const evaluated = await welford(['eval', '--checkpoint', join(out, 'checkpoint.safetensors')]);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(evaluated.stdout).toMatch(/^test loss \S+  accuracy \S+ \(\d+\/64\) on 64 samples$/m);
  }, 240_000);

  it('SIGINT during the evaluation drops it and saves the trained weights', async () => {
    const out = join(dir, 'in-evaluation');
    // The whole test split (2004 digits) takes a while to evaluate.
    const p = new WelfordProcess([...withFlag(TINY, '--test-limit', '2004'), '--steps', '3', '--out', out]);
    await p.until('the evaluation', () => p.stdout.includes('evaluating on 2004 test samples'));
    p.kill('SIGINT');
    const r = await p.ended;

    expect(r.status, r.stderr).toBe(130);
    const run = readJson<RunJson>(join(out, 'run.json'));
    expect(run).toMatchObject({ status: 'interrupted', signal: 'SIGINT', steps: 3, epochs: [] });
    expect(r.stdout).not.toMatch(/^epoch 1\/1/m);
    expectCheckpointOf(out, run);
  }, 180_000);

  it('SIGINT before training started (--browser, while the page is built): exit 130, run.json at step 0, no checkpoint', async () => {
    const out = join(dir, 'early');
    const p = new WelfordProcess([...LONG, '--browser', '--out', out]);
    // Printed once the data is loaded, just before the folder is made and the page is built (seconds).
    await p.until('the configuration line', () => p.stdout.includes('welford train: small-cnn'));
    p.kill('SIGINT');
    const r = await p.ended;

    expect(r.status, r.stderr).toBe(130);
    expect(r.code).toBe(130);
    expect(jsStackLines(r.stderr)).toEqual([]);
    expect(welfordLines(r.stderr).at(-1)).toBe(`welford train: interrupted by SIGINT before training started; wrote run.json in ${out}`);
    const run = readJson<RunJson>(join(out, 'run.json'));
    expect(run).toMatchObject({ status: 'interrupted', signal: 'SIGINT', steps: 0 });
    expect(readdirSync(out).sort()).toEqual(['metrics.jsonl', 'run.json', 'stats.jsonl']);
  }, 180_000);
});

describe('welford train --browser and SIGINT', () => {
  it('reaches the page: it stops at the next step, and Node saves its weights and run.json', async () => {
    const out = join(dir, 'browser');
    const p = new WelfordProcess([...LONG, '--browser', '--out', out]);
    await p.until('a line in metrics.jsonl', () => hasLine(join(out, 'metrics.jsonl')), 240_000);
    p.kill('SIGINT');
    const r = await p.ended;

    expect(r.status, r.stderr).toBe(130);
    expect(r.code).toBe(130);
    const run = readJson<RunJson & { runtime: string }>(join(out, 'run.json'));
    expect(run).toMatchObject({ status: 'interrupted', signal: 'SIGINT', runtime: 'browser' });
    expect(run.steps).toBeGreaterThan(0);
    expect(run.steps).toBeLessThan(1600);
    expect(welfordLines(r.stderr).at(-1)).toBe(`welford train: interrupted by SIGINT at step ${run.steps}; wrote checkpoint.safetensors and run.json in ${out}`);
    expectCheckpointOf(out, run);
  }, 360_000);
});

describe('welford train and a second SIGINT', () => {
  it('exits at once with status 130, run.json "interrupted"', async () => {
    const out = join(dir, 'twice');
    // Wider, so that one step takes about a second and the first stop is still on its way.
    const p = new WelfordProcess([...withFlag(withFlag(LONG, '--width', '16'), '--batch', '32'), '--out', out]);
    await p.until('a line in metrics.jsonl', () => hasLine(join(out, 'metrics.jsonl')));
    p.kill('SIGINT');
    await p.until('the first SIGINT to be heard', () => p.stderr.includes('stopping at the next step'));
    p.kill('SIGINT');
    const r = await p.ended;

    expect(r.status, r.stderr).toBe(130);
    expect(welfordLines(r.stderr).at(-1)).toMatch(new RegExp(`^welford train: SIGINT again: exiting at once at step \\d+ \\(no checkpoint; wrote run.json in ${out}\\)$`));
    expect(jsStackLines(r.stderr)).toEqual([]);
    const run = readJson<RunJson>(join(out, 'run.json'));
    expect(run).toMatchObject({ status: 'interrupted', signal: 'SIGINT', error: 'SIGINT twice: exited without saving the weights' });
  }, 180_000);
});

describe('the signal handlers', () => {
  it('are removed when the command ends', () => {
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const remove = onInterrupts(
      () => undefined,
      () => undefined,
    );
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual([before[0] + 1, before[1] + 1]);
    remove();
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
  });
});
