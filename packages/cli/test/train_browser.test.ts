// `welford train --browser`: the same training in headless Chromium (Debian's, WebGPU on
// SwiftShader), a few steps, with the page's progress, metrics, statistics and checkpoint
// written by the Node side, and the checkpoint evaluated back in Node; and a shorter run in
// headless Firefox (Debian's firefox-esr), whose protocol passes the answer differently.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEval, readJson, readJsonLines, welford, type StepLine, type TestLine } from './train_helpers.ts';

describe('welford train --browser', () => {
  it('trains in headless Chromium and writes the same files as a Node run', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'welford-browser-')), 'run');
    const args = ['train', '--model', 'small-cnn', '--width', '8', '--norm', 'group', '--groups', '4', '--dataset', 'mnist', '--steps', '6', '--log-every', '2', '--stats-every', '3', '--train-limit', '256', '--test-limit', '100', '--browser', '--out', out];
    const r = await welford(args);
    console.log(`welford train --browser: ${r.seconds.toFixed(1)} s`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^browser: \S*Chrome\/[\d.]+ \(\/usr\/bin\/chromium\), WebGPU on SwiftShader, page http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(r.stdout).toMatch(/^training on webgpu: .*swiftshader.* in HeadlessChrome\//im);
    expect(r.stdout).toMatch(/^step 6\/6 \(epoch 1\/1\)  loss \d\.\d{4}  acc /m);
    expect(readdirSync(out).sort()).toEqual(['checkpoint.safetensors', 'metrics.jsonl', 'run.json', 'stats.jsonl']);

    const metrics = readJsonLines<StepLine | { kind: 'epoch'; test: TestLine }>(join(out, 'metrics.jsonl'));
    expect(metrics.filter((m) => m.kind === 'step').map((m) => (m as StepLine).step)).toEqual([2, 4, 6]);
    const stats = readJsonLines<{ step: number; layers: Record<string, { type: string }> }>(join(out, 'stats.jsonl'));
    expect(stats.map((s) => s.step)).toEqual([3, 6]);
    expect(stats[0].layers.bn1.type).toBe('GroupNorm');

    const run = readJson<{ runtime: string; status: string; adapter: string; test: TestLine }>(join(out, 'run.json'));
    expect(run).toMatchObject({ runtime: 'browser', status: 'finished', test: { samples: 100 } });
    expect(run.adapter).toMatch(/^webgpu: .*swiftshader/i);

    // Node's Dawn and Chromium's compile the same WGSL with different compiler versions, so the
    // figures may differ in the last bits; a prediction on a knife's edge may flip.
    const e = await welford(['eval', '--checkpoint', join(out, 'checkpoint.safetensors')]);
    expect(e.code, e.stderr).toBe(0);
    const evaluated = parseEval(e.stdout);
    expect(evaluated.total).toBe(100);
    expect(Math.abs(evaluated.correct - run.test.correct)).toBeLessThanOrEqual(1);
    expect(Math.abs(evaluated.loss - run.test.loss)).toBeLessThanOrEqual(1e-3);
  });

  it('trains in headless Firefox (WebGPU on SwiftShader through wgpu) and records the test figures', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'welford-browser-')), 'run');
    const args = ['train', '--model', 'small-cnn', '--width', '8', '--norm', 'batch', '--dataset', 'mnist', '--steps', '2', '--log-every', '1', '--stats-every', '2', '--train-limit', '64', '--test-limit', '50', '--browser', 'firefox', '--out', out];
    const r = await welford(args);
    console.log(`welford train --browser firefox: ${r.seconds.toFixed(1)} s`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^browser: firefox\/[\d.]+\S* \(\S+\), WebGPU on SwiftShader, page http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(r.stdout).toMatch(/^training on webgpu: .* in Firefox\/[\d.]+$/m);
    expect(r.stdout).toMatch(/^step 2\/2 \(epoch 1\/1\)  loss \d\.\d{4}  acc /m);
    expect(readdirSync(out).sort()).toEqual(['checkpoint.safetensors', 'metrics.jsonl', 'run.json', 'stats.jsonl']);
    // The answer holds one object twice (the last epoch's test figures); it must reach Node whole.
    const run = readJson<{ runtime: string; status: string; test: TestLine }>(join(out, 'run.json'));
    expect(run).toMatchObject({ runtime: 'browser', status: 'finished', test: { samples: 50 } });
  });
});
