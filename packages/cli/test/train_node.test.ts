// `welford train` in Node on the real WebGPU adapter, as a user runs it: three short runs (a
// small CNN with batch norm on MNIST digits, a pre-activation ResNet-8 with group norm on
// Fashion-MNIST, a U-Net on synthetic shapes) whose loss must fall, whose files must parse, and
// whose checkpoint `welford eval` must score exactly as the run did.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSafetensors } from '@welford/layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { mean, parseEval, readJson, readJsonLines, welford, type StepLine, type TestLine } from './train_helpers.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'welford-train-'));
});

interface RunJson {
  status: string;
  runtime: string;
  adapter: string;
  steps: number;
  config: Record<string, unknown>;
  test: TestLine;
  epochs: { kind: 'epoch'; test: TestLine }[];
}

interface StatsLine {
  step: number;
  layers: Record<string, { type: string; input?: { mean: number[] }; activation?: { deadFraction: number } }>;
  nonFinite: string[];
}

/** Trains, checks what every run must satisfy, and returns the folder's contents. */
async function trainAndCheck(name: string, args: string[], steps: number, adapter = /^webgpu: /) {
  const out = join(dir, name);
  const r = await welford(['train', ...args, '--steps', String(steps), '--log-every', '1', '--out', out]);
  expect(r.code, r.stderr).toBe(0);
  console.log(`welford train ${name}: ${r.seconds.toFixed(1)} s`);
  // Not a terminal: one plain line per logged step, then the epoch and the summary.
  expect(r.stdout).toMatch(new RegExp(`^step ${steps}/${steps} \\(epoch 1/1\\)  loss \\d+\\.\\d{4}  acc \\d\\.\\d{3}  lr \\S+  [\\d.]+ steps/s$`, 'm'));
  expect(r.stdout).not.toContain('\r');
  expect(r.stdout).toMatch(/^epoch 1\/1 \(\d+ steps\): train loss /m);
  // Only the four files: no temporary file is left behind.
  expect(readdirSync(out).sort()).toEqual(['checkpoint.safetensors', 'metrics.jsonl', 'run.json', 'stats.jsonl']);

  const metrics = readJsonLines<StepLine | ({ kind: 'epoch'; test: TestLine })>(join(out, 'metrics.jsonl'));
  const stepLines = metrics.filter((m): m is StepLine => m.kind === 'step');
  expect(stepLines.map((m) => m.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
  for (const m of stepLines) {
    expect(Number.isFinite(m.loss)).toBe(true);
    expect(m.accuracy).toBeGreaterThanOrEqual(0);
    expect(m.stepsPerSecond).toBeGreaterThan(0);
  }
  const epochs = metrics.filter((m) => m.kind === 'epoch');
  expect(epochs).toHaveLength(1);

  const run = readJson<RunJson>(join(out, 'run.json'));
  expect(run).toMatchObject({ status: 'finished', runtime: 'node', steps });
  expect(run.adapter).toMatch(adapter);
  expect(run.test).toEqual(epochs[0].test);

  const checkpoint = parseSafetensors(new Uint8Array(readFileSync(join(out, 'checkpoint.safetensors'))));
  expect(JSON.parse(checkpoint.metadata['welford.config'])).toEqual(run.config);
  return { out, losses: stepLines.map((m) => m.loss), run, checkpoint, stats: readJsonLines<StatsLine>(join(out, 'stats.jsonl')) };
}

/** `welford eval` of the run's checkpoint gives the run's final test figures. */
async function expectEvalAgrees(out: string, test: TestLine): Promise<void> {
  const r = await welford(['eval', '--checkpoint', join(out, 'checkpoint.safetensors')]);
  expect(r.code, r.stderr).toBe(0);
  const e = parseEval(r.stdout);
  expect([e.correct, e.total]).toEqual([test.correct, test.total]);
  expect(Math.abs(e.loss - test.loss)).toBeLessThanOrEqual(1e-4);
  if (test.miou !== undefined) expect(Math.abs(e.miou! - test.miou)).toBeLessThanOrEqual(1e-4);
}

describe('welford train in Node', () => {
  it('small-cnn with batch norm on MNIST digits: the loss falls, the files are written, eval agrees', async () => {
    const args = ['--model', 'small-cnn', '--width', '8', '--norm', 'batch', '--dataset', 'mnist', '--batch', '32', '--lr', '0.2', '--stats-every', '5', '--test-limit', '200'];
    const { out, losses, run, checkpoint, stats } = await trainAndCheck('small-cnn', args, 30);
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 0.1);
    expect(run.test.samples).toBe(200);
    // The probes read every 5th step, with the step numbers of metrics.jsonl.
    expect(stats.map((s) => s.step)).toEqual([5, 10, 15, 20, 25, 30]);
    for (const s of stats) {
      // Each norm bn{i} is followed by a ReLU module relu{i}, which reports the stage's dead fraction.
      expect(Object.keys(s.layers)).toEqual(['bn1', 'relu1', 'bn2', 'relu2', 'bn3', 'relu3', 'bn4', 'relu4']);
      expect(s.layers.bn1.type).toBe('BatchNorm2d');
      expect(s.layers.bn1.input!.mean).toHaveLength(8);
      expect(s.layers.bn1.activation).toBeUndefined();
      expect(s.layers.relu1.type).toBe('ReLU');
      expect(s.layers.relu1.activation!.deadFraction).toBeGreaterThan(0);
      expect(s.nonFinite).toEqual([]);
    }
    expect(checkpoint.tensors.get('bn1.num_batches_tracked')!.data[0]).toBe(30);
    expect(checkpoint.tensors.get('conv2.weight')!.shape).toEqual([16, 8, 3, 3]);
    await expectEvalAgrees(out, run.test);
  });

  it('small-cnn on 2 replicas with synchronised batch norm: trains, writes replica 0, eval agrees', async () => {
    const args = ['--model', 'small-cnn', '--width', '8', '--norm', 'batch', '--dataset', 'mnist', '--batch', '16', '--lr', '0.2', '--stats-every', '5', '--test-limit', '100', '--replicas', '2', '--sync-bn'];
    const { out, losses, run, checkpoint, stats } = await trainAndCheck('small-cnn-replicas', args, 10, /^2 replicas, each on webgpu: /);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(run.config).toMatchObject({ replicas: 2, syncBn: true });
    // Synchronised: every replica ends with the same running statistics.
    const spread = (run as unknown as { replicaSpread: { layer: string; runningMean: number; runningVar: number }[] }).replicaSpread;
    expect(spread.map((s) => s.layer)).toEqual(['bn1', 'bn2', 'bn3', 'bn4']);
    for (const s of spread) expect([s.runningMean, s.runningVar]).toEqual([0, 0]);
    expect(stats.map((s) => s.step)).toEqual([5, 10]);
    // Every replica counted every batch: one count per step.
    expect(checkpoint.tensors.get('bn1.num_batches_tracked')!.data[0]).toBe(10);
    await expectEvalAgrees(out, run.test);
  });

  it('preact-resnet depth 8 with group norm on Fashion-MNIST, batch 16: the loss falls, eval agrees', async () => {
    const args = ['--model', 'preact-resnet', '--depth', '8', '--width', '8', '--norm', 'group', '--groups', '4', '--dataset', 'fashion-mnist', '--batch', '16', '--optimizer', 'adam', '--lr', '0.004', '--stats-every', '10', '--test-limit', '100'];
    const { out, losses, run, checkpoint, stats } = await trainAndCheck('preact-resnet', args, 30);
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 0.05);
    expect(stats.map((s) => s.step)).toEqual([10, 20, 30]);
    expect(stats[0].layers['layer1.0.bn1'].type).toBe('GroupNorm');
    expect(checkpoint.tensors.has('layer3.0.shortcut.weight')).toBe(true);
    await expectEvalAgrees(out, run.test);
  });

  it('unet on synthetic shapes: the loss falls, mean IoU is reported, eval agrees', async () => {
    const args = ['--model', 'unet', '--depth', '2', '--width', '8', '--norm', 'instance', '--dataset', 'shapes', '--image-size', '16', '--batch', '8', '--lr', '0.1', '--stats-every', '10', '--test-limit', '32'];
    const { out, losses, run } = await trainAndCheck('unet', args, 20);
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 0.3);
    expect(run.test.total).toBe(32 * 16 * 16);
    expect(run.test.miou).toBeGreaterThan(0);
    await expectEvalAgrees(out, run.test);
  });
});
