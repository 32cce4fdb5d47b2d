// `welford adapt` as a user runs it: a tiny batch-norm model trained for a few steps, then its
// accuracy on clean and shifted test images, after few-shot adaptation and after precise batch
// norm. The table's rows must come from real evaluations, and the checkpoint must stay as it was.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AdaptRow } from '../src/train/adapt_command.ts';
import { parseEval, readJson, welford } from './train_helpers.ts';

let dir: string;
let checkpoint: string;

const tiny = ['--model', 'small-cnn', '--depth', '2', '--width', '4', '--dataset', 'mnist', '--batch', '16', '--lr', '0.2', '--test-limit', '100', '--stats-every', '0'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'welford-adapt-'));
  const r = await welford(['train', ...tiny, '--norm', 'batch', '--steps', '20', '--out', join(dir, 'batch')]);
  expect(r.code, r.stderr).toBe(0);
  checkpoint = join(dir, 'batch', 'checkpoint.safetensors');
});

interface AdaptJson {
  adapter: string;
  shots: number;
  priorStrength: number;
  shift: { brightness: number; contrast: number; center: string; clip: boolean };
  rows: AdaptRow[];
  fewShot: { name: string; targetWeight: number; samples: number; meanShift: number }[];
  precise: { name: string; samples: number; targetWeight: number }[] | null;
}

describe('welford adapt', () => {
  it('prints clean, shifted, few-shot and precise rows from real evaluations and leaves the checkpoint alone', async () => {
    const before = readFileSync(checkpoint);
    const json = join(dir, 'out', 'adapt.json');
    const r = await welford(['adapt', '--checkpoint', checkpoint, '--shots', '8', '--precise', '64', '--json', json]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(checkpoint).equals(before)).toBe(true);

    const report = readJson<AdaptJson>(json);
    expect(report.adapter).toMatch(/^webgpu: /);
    expect(report).toMatchObject({ shots: 8, priorStrength: 4, shift: { brightness: 0.3, contrast: 0.6, center: 'mean', clip: true } });
    expect(report.rows.map((row) => [row.row, row.testSet])).toEqual([
      ['clean', 'clean'],
      ['shifted', 'shifted'],
      ['few-shot', 'shifted'],
      ['precise', 'shifted'],
    ]);
    for (const { test } of report.rows) {
      expect(test.total).toBe(100);
      expect(test.accuracy).toBeGreaterThanOrEqual(0);
      expect(test.accuracy).toBeLessThanOrEqual(1);
      expect(test.correct).toBe(Math.round(test.accuracy * test.total));
      expect(Number.isFinite(test.loss)).toBe(true);
    }
    const [clean, shifted, fewShot, precise] = report.rows.map((row) => row.test);
    // The shift changes what the model sees, and each re-estimation changes the statistics it uses.
    expect(shifted.loss).not.toBe(clean.loss);
    expect(shifted.correct).not.toBe(clean.correct);
    expect(fewShot.loss).not.toBe(shifted.loss);
    expect(precise.loss).not.toBe(fewShot.loss);
    expect(report.fewShot.map((l) => [l.name, l.samples, l.targetWeight])).toEqual([
      ['bn1', 8, 8 / 12],
      ['bn2', 8, 8 / 12],
    ]);
    expect(report.fewShot[0].meanShift).toBeGreaterThan(0);
    // 64 samples in batches of 16, the training batch size.
    expect(report.precise!.map((l) => [l.name, l.samples, l.targetWeight])).toEqual([
      ['bn1', 64, 1],
      ['bn2', 64, 1],
    ]);

    // The table shows the JSON's numbers; the clean row is what `welford eval` reports.
    expect(r.stdout).toMatch(/^test set +batch-norm statistics +loss +accuracy$/m);
    expect(r.stdout).toContain(`clean    stored`);
    expect(r.stdout).toMatch(new RegExp(`^shifted +few-shot: 8 shifted training samples, k = 4 +${fewShot.loss.toFixed(4)} +${fewShot.accuracy.toFixed(4)} \\(${fewShot.correct}/100\\)$`, 'm'));
    expect(r.stdout).toMatch(/^ {2}bn1 +means moved \d+\.\d\d sd, spread x\d+\.\d\d {2}\(BatchNorm2d, 4 channels\)$/m);
    const e = await welford(['eval', '--checkpoint', checkpoint]);
    expect(e.code, e.stderr).toBe(0);
    expect(parseEval(e.stdout).correct).toBe(clean.correct);
  });

  it('explains bad arguments (exit 2) and checkpoints it cannot use (exit 1)', async () => {
    const usage = async (args: string[], message: string) => {
      const r = await welford(['adapt', ...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`welford adapt: ${message}`);
      expect(r.stderr).toContain('usage: welford adapt --checkpoint FILE');
    };
    await usage(['--checkpoint', checkpoint, '--shots', '0'], '--shots must be an integer >= 1, got 0');
    await usage(['--checkpoint', checkpoint, '--prior-strength', '-2'], '--prior-strength must be a number >= 0 (0: the shots\' statistics alone; inf: the stored ones), got -2');
    await usage(['--checkpoint', checkpoint, '--contrast', '-1'], '--contrast must be a finite number >= 0');
    await usage(['--checkpoint', checkpoint, '--epochs', '2'], 'unknown option --epochs for welford adapt; valid options: --checkpoint --shots');
    await usage(['--shots', '4'], 'missing --checkpoint FILE');

    const missing = await welford(['adapt', '--checkpoint', join(dir, 'nothing.safetensors')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('welford adapt: cannot read the checkpoint');
    const many = await welford(['adapt', '--checkpoint', checkpoint, '--shots', '100000']);
    expect(many.code).toBe(1);
    expect(many.stderr).toContain('welford adapt: --shots 100000 is more than the 7996 samples of the mnist training split');

    const group = await welford(['train', ...tiny, '--norm', 'group', '--groups', '2', '--steps', '1', '--out', join(dir, 'group')]);
    expect(group.code, group.stderr).toBe(0);
    const r = await welford(['adapt', '--checkpoint', join(dir, 'group', 'checkpoint.safetensors')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('was trained with --norm group: welford adapt re-estimates batch-norm statistics, and group norm keeps none (use a checkpoint trained with --norm batch or batch-renorm)');
  });
});
