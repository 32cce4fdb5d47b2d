// Bad input to `welford train` and `welford eval`, as a user meets it: each mistake a clear
// message and a non-zero exit status (2 for the command line, 1 for a run that fails), and
// never a checkpoint from a failed run.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readJson, readJsonLines, root, run, welford } from './train_helpers.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'welford-train-errors-'));
});

const base = ['train', '--model', 'small-cnn', '--norm', 'batch', '--dataset', 'mnist'];

/** Replaces the value of `flag` in the base command (or adds the flag). */
function withFlag(flag: string, value: string): string[] {
  const args = [...base];
  const i = args.indexOf(flag);
  if (i >= 0) args[i + 1] = value;
  else args.push(flag, value);
  return args;
}

describe('welford train: bad command lines exit 2 with the valid choices and the usage', () => {
  it.each([
    ['an unknown model', withFlag('--model', 'vgg16'), 'unknown model "vgg16" for --model (models: small-cnn, preact-resnet, unet)'],
    ['an unknown norm', withFlag('--norm', 'weight'), 'unknown norm "weight" for --norm (norms: batch, group, layer, instance, batch-renorm, none)'],
    ['an unknown dataset', withFlag('--dataset', 'cifar10'), 'unknown dataset "cifar10" for --dataset (datasets: mnist, fashion-mnist, shapes)'],
    ['an unknown flag', [...base, '--learning-rate', '0.1'], 'unknown option --learning-rate for welford train; valid options: --model --depth --width --norm'],
    ['a missing model', ['train', '--norm', 'batch', '--dataset', 'mnist'], 'missing --model (small-cnn, preact-resnet, unet)'],
    ['a value that is not a number', withFlag('--lr', 'fast'), '--lr needs a number, got "fast"'],
    ['a classifier on the segmentation dataset', withFlag('--dataset', 'shapes'), 'small-cnn is a classifier and shapes a segmentation dataset'],
    ['groups that do not divide the channels', [...withFlag('--norm', 'group'), '--groups', '5'], '--groups 5 does not divide the 16 channels of a small-cnn of --width 16'],
    ['replicas on the CPU reference', [...base, '--replicas', '2', '--cpu'], '--replicas 2 trains on a WebGPU device per replica; the CPU reference (--cpu) has no devices to spread over'],
    ['--sync-bn without replicas', [...base, '--sync-bn'], '--sync-bn synchronises batch norm across data-parallel replicas: give --replicas 2 or more'],
  ])('%s', async (_what, args, message) => {
    const r = await welford(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`welford train: ${message}`);
    expect(r.stderr).toContain('usage: welford train --model small-cnn|preact-resnet|unet');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--batch 1 with batch norm explains why and suggests group norm', async () => {
    for (const norm of ['batch', 'batch-renorm']) {
      const r = await welford([...withFlag('--norm', norm), '--batch', '1']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--batch 1 with --norm ${norm}: batch statistics of one sample are degenerate`);
      expect(r.stderr).toContain('use --norm group');
    }
  });

  it('pnpm welford runs from the repository root and passes the exit status on', async () => {
    const r = await run('pnpm', ['--silent', '--dir', root, 'welford', 'train', '--model', 'mlp', '--norm', 'batch', '--dataset', 'mnist']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown model "mlp"');
  });
});

describe('welford train: runs that fail exit 1 and leave no checkpoint', () => {
  it('a missing Fashion-MNIST names the Debian package, before any folder is made', async () => {
    const out = join(dir, 'no-data');
    const r = await welford(['train', '--model', 'small-cnn', '--norm', 'group', '--dataset', 'fashion-mnist', '--out', out], { env: { WELFORD_FASHION_MNIST_DIR: join(dir, 'absent') } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('welford train: Fashion-MNIST file not found');
    expect(r.stderr).toContain('dataset-fashion-mnist');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
  });

  it('a NaN loss stops training, names the step and the first layer whose statistics went non-finite', async () => {
    const out = join(dir, 'nan');
    const args = ['--width', '8', '--lr', '1e30', '--train-limit', '256', '--test-limit', '50', '--log-every', '1', '--stats-every', '1', '--steps', '8', '--out', out];
    const r = await welford([...base, ...args]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('welford train: the loss at step 2 (epoch 0) is NaN: bn1 (BatchNorm2d) is the first layer whose statistics went non-finite (step 2; then relu1, bn2, relu2, bn3, ...)');
    expect(r.stderr).toContain('training stopped; no checkpoint written');
    expect(readdirSync(out).sort()).toEqual(['metrics.jsonl', 'run.json', 'stats.jsonl']);
    expect(readJson(join(out, 'run.json'))).toMatchObject({ status: 'failed' });
    const stats = readJsonLines<{ step: number; nonFinite: string[] }>(join(out, 'stats.jsonl'));
    expect(stats.find((s) => s.nonFinite.length > 0)).toMatchObject({ step: 2, nonFinite: ['bn1', 'relu1', 'bn2', 'relu2', 'bn3', 'relu3', 'bn4', 'relu4'] });
  });

  it('without a probe on the step, one more forward pass finds the layer', async () => {
    const out = join(dir, 'nan-unprobed');
    const args = ['--width', '8', '--lr', '1e30', '--train-limit', '256', '--log-every', '1', '--stats-every', '0', '--steps', '8', '--out', out];
    const r = await welford([...base, ...args]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the loss at step 2 (epoch 0) is NaN: one forward pass after it: bn1 (BatchNorm2d) is the first layer whose statistics went non-finite');
    expect(existsSync(join(out, 'checkpoint.safetensors'))).toBe(false);
  });
});

describe('welford eval: bad input', () => {
  it('a missing checkpoint exits 1; no --checkpoint exits 2', async () => {
    const missing = await welford(['eval', '--checkpoint', join(dir, 'absent.safetensors')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`welford eval: cannot read the checkpoint ${join(dir, 'absent.safetensors')}: no such file`);
    const none = await welford(['eval', '--model', 'small-cnn']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('welford eval: missing --checkpoint FILE');
    expect(none.stderr).toContain('usage: welford eval --checkpoint FILE');
  });

  it('a file that is not a checkpoint, or one that does not say how it was trained, is explained', async () => {
    const junk = join(dir, 'junk.safetensors');
    writeFileSync(junk, 'not a safetensors file');
    const r = await welford(['eval', '--checkpoint', junk]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`welford eval: ${junk}: safetensors:`);
    // A valid file without welford's metadata and without run.json beside it.
    const bare = join(dir, 'bare', 'model.safetensors');
    const header = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }));
    const bytes = new Uint8Array(8 + header.length + 4);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    mkdirSync(join(dir, 'bare'), { recursive: true });
    writeFileSync(bare, bytes);
    const unknown = await welford(['eval', '--checkpoint', bare]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('does not say how it was trained (no welford.config metadata, no run.json beside it): give --model, --norm and --dataset');
  });
});
