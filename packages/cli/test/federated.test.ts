// `welford federated` as a user runs it: a tiny federation of 3 clients for a few steps, with
// and without noise on FedAvg's statistics; the clients' shards; and the usage errors.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LabeledImages } from '@welford/data';
import type { FederatedReport } from '../src/train/federated_command.ts';
import { clientData, CONTRAST_RANGE } from '../src/train/federated_data.ts';
import { readJson, welford } from './train_helpers.ts';

let dir: string;
const tiny = ['--clients', '3', '--rounds', '2', '--local-steps', '2', '--batch', '16', '--train-per-client', '48', '--test-per-client', '40', '--depth', '2', '--width', '4', '--dataset', 'mnist', '--lr', '0.1'];
const dp = ['--dp-epsilon', '0.5', '--dp-delta', '1e-5', '--dp-clip', '2'];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'welford-federated-'));
});

describe('welford federated', () => {
  it('prints a per-client table of FedAvg and FedBN accuracies from real evaluations; noise changes FedAvg only', async () => {
    const plainJson = join(dir, 'plain.json');
    const r = await welford(['federated', ...tiny, '--json', plainJson]);
    expect(r.code, r.stderr).toBe(0);
    const plain = readJson<FederatedReport>(plainJson);
    expect(plain.adapter).toMatch(/^webgpu: /);
    expect(plain.localStepsPerRound).toBe(2);
    expect(plain.noise).toBeNull();
    expect(plain.clients.map((c) => [c.client, c.trainSamples, c.testSamples])).toEqual([
      [0, 48, 40],
      [1, 48, 40],
      [2, 48, 40],
    ]);
    for (const c of plain.clients) {
      for (const t of [c.fedavg!, c.fedbn!]) {
        expect(t.total).toBe(40);
        expect(t.accuracy).toBeGreaterThanOrEqual(0);
        expect(t.accuracy).toBeLessThanOrEqual(1);
        expect(t.correct).toBe(Math.round(t.accuracy * 40));
        expect(Number.isFinite(t.loss)).toBe(true);
      }
    }
    // Same initial weights and data. Batch norm trains on batch statistics, so keeping the running
    // statistics local changes no weight: the rules train alike and differ in evaluation only.
    expect(plain.rounds.fedbn!.map((r) => r.meanLocalLoss)).toEqual(plain.rounds.fedavg!.map((r) => r.meanLocalLoss));
    expect(plain.clients.some((c) => c.fedavg!.loss !== c.fedbn!.loss)).toBe(true);
    expect(new Set(plain.clients.map((c) => c.shiftLabel)).size).toBe(3);
    expect(plain.mean.fedavg!.accuracy).toBeCloseTo(plain.clients.reduce((s, c) => s + c.fedavg!.accuracy, 0) / 3, 12);

    // The table shows the JSON's figures.
    expect(r.stdout).toMatch(/^client +shift +FedAvg +FedBN$/m);
    for (const c of plain.clients) {
      const cell = (t: { accuracy: number; correct: number }) => `${t.accuracy.toFixed(4)} \\(${t.correct}/40\\)`;
      expect(r.stdout).toMatch(new RegExp(`^${c.client} +${c.shiftLabel.replace(/[+.]/g, '\\$&')} +${cell(c.fedavg!)} +${cell(c.fedbn!)}$`, 'm'));
    }
    expect(r.stdout).toMatch(new RegExp(`^mean +${plain.mean.fedavg!.accuracy.toFixed(4)} +${plain.mean.fedbn!.accuracy.toFixed(4)}$`, 'm'));

    // With noise on FedAvg's statistics: σ as the formula says; FedBN, which shares none, is unchanged.
    const noisyJson = join(dir, 'noisy.json');
    const n = await welford(['federated', ...tiny, ...dp, '--json', noisyJson]);
    expect(n.code, n.stderr).toBe(0);
    const noisy = readJson<FederatedReport>(noisyJson);
    const sigma = (2 * Math.sqrt(2 * Math.log(1.25 / 1e-5))) / 0.5;
    expect(noisy.noise!.sigma).toBeCloseTo(sigma, 10);
    // Two batch-norm layers of 4 and 8 channels: a mean and a variance per channel.
    expect(noisy.noise!.statistics).toEqual(['bn1.runningMean', 'bn1.runningVar', 'bn2.runningMean', 'bn2.runningVar']);
    expect(noisy.noise!.values).toBe(24);
    expect(n.stdout).toContain(`σ = ${sigma.toPrecision(4)} per value per round (ε = 0.5, δ = 0.00001); FedBN shares no statistics, so nothing of it is noised`);
    for (const [k, c] of noisy.clients.entries()) {
      expect(c.fedbn).toEqual(plain.clients[k].fedbn);
      expect(c.fedavg!.loss).not.toBe(plain.clients[k].fedavg!.loss);
    }
    for (const round of noisy.rounds.fedavg!) expect(round.meanClipScale).toBeLessThanOrEqual(1);
  });

  it('explains bad arguments (exit 2) and data it cannot split (exit 1)', async () => {
    const usage = async (args: string[], message: string) => {
      const r = await welford(['federated', ...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`welford federated: ${message}`);
      expect(r.stderr).toContain('usage: welford federated [--clients K]');
    };
    await usage(['--clients', '0'], '--clients must be an integer >= 1, got 0');
    await usage([...dp.slice(0, 2)], 'the Gaussian noise needs all of --dp-epsilon, --dp-delta, --dp-clip; missing --dp-delta, --dp-clip');
    await usage(['--dp-epsilon', '0', '--dp-delta', '1e-5', '--dp-clip', '1'], '--dp-epsilon must be in (0, 1]');
    await usage(['--dp-epsilon', '2', '--dp-delta', '1e-5', '--dp-clip', '1'], '--dp-epsilon must be in (0, 1] (the classical Gaussian mechanism\'s calibration, σ = C·sqrt(2·ln(1.25/δ))/ε, holds for ε ≤ 1), got 2');
    await usage(['--dp-epsilon', '1', '--dp-delta', '1', '--dp-clip', '1'], '--dp-delta must be in (0, 1), got 1');
    await usage(['--dp-epsilon', '1', '--dp-delta', '0.1', '--dp-clip', '-1'], '--dp-clip must be a number > 0, got -1');
    await usage(['--fedbn', ...dp], '--dp-epsilon/--dp-delta/--dp-clip noise the batch-norm statistics FedAvg shares; FedBN shares none (they stay on each client), so with --fedbn alone there is nothing to noise');
    await usage(['--norm', 'group', ...dp], '--dp-epsilon/--dp-delta/--dp-clip noise the running statistics of batch norm; --norm group keeps none (use --norm batch or batch-renorm)');
    await usage(['--local-steps', '2', '--local-epochs', '1'], 'give --local-steps or --local-epochs, not both');
    await usage(['--fedavg', '--local-affine'], "--local-affine keeps the norm layers' weight and bias local under FedBN");
    await usage(['--shift', 'rotation'], '--shift must be one of brightness, label, got "rotation"');
    await usage(['--dataset', 'shapes'], '--dataset must be one of fashion-mnist, mnist, got "shapes"');
    await usage(['--batch', '64', '--train-per-client', '32'], '--train-per-client 32 is less than one batch of 64');
    await usage(['--epochs', '2'], 'unknown option --epochs for welford federated; valid options: --clients --rounds');

    const r = await welford(['federated', '--dataset', 'mnist', '--clients', '8', '--train-per-client', '1000']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('welford federated: 8 clients × 1000 images need 8000 training images; the split has 7996 (lower --train-per-client or --clients)');
  });
});

describe('clients\' shards', () => {
  /** 60 images of 2×2 pixels, labels 0..9 in turn; pixel values tell the images apart. */
  const split = (n: number): LabeledImages => new LabeledImages({ shape: [1, 2, 2], classes: Array.from({ length: 10 }, (_, i) => String(i)), pixels: Uint8Array.from({ length: n * 4 }, (_, i) => (Math.floor(i / 4) * 7 + (i % 4)) % 256), labels: Uint8Array.from({ length: n }, (_, i) => i % 10) });

  it('brightness: disjoint shards, one brightness level and a distinct contrast each, seeded', () => {
    const clients = clientData({ train: split(60), test: split(30) }, { clients: 4, shift: 'brightness', trainPerClient: 12, testPerClient: 5, seed: 3 });
    const brightness = clients.map((c) => (c.shift.kind === 'brightness' ? c.shift.brightness : NaN));
    [-0.3, -0.1, 0.1, 0.3].forEach((b, k) => expect(brightness[k]).toBeCloseTo(b, 12));
    const contrasts = clients.map((c) => (c.shift.kind === 'brightness' ? c.shift.contrast : NaN)).sort((a, b) => a - b);
    [CONTRAST_RANGE[0], 5 / 6, 7 / 6, CONTRAST_RANGE[1]].forEach((c, k) => expect(contrasts[k]).toBeCloseTo(c, 12));
    expect(clients.every((c) => c.train.length === 12 && c.test.length === 5)).toBe(true);
    // The same seed gives the same pairing and the same images.
    const again = clientData({ train: split(60), test: split(30) }, { clients: 4, shift: 'brightness', trainPerClient: 12, testPerClient: 5, seed: 3 });
    expect(again.map((c) => c.shift)).toEqual(clients.map((c) => c.shift));
    expect(again.map((c) => [...c.train.pixels])).toEqual(clients.map((c) => [...c.train.pixels]));
    // A flat image (every pixel 0.5) keeps its mean under contrast and moves by the brightness.
    const flat = new LabeledImages({ shape: [1, 2, 2], classes: ['a'], pixels: new Uint8Array(4 * 8).fill(128), labels: new Uint8Array(8) });
    const shifted = clientData({ train: flat, test: flat }, { clients: 2, shift: 'brightness', trainPerClient: 4, testPerClient: 4, seed: 1 });
    expect([...shifted[0].train.pixels]).toEqual(new Array(16).fill(Math.round((128 / 255 - 0.3) * 255)));
    expect([...shifted[1].test.pixels]).toEqual(new Array(16).fill(Math.round((128 / 255 + 0.3) * 255)));
  });

  it('label skew: two classes per client, disjoint samples, test shards of the same classes', () => {
    const clients = clientData({ train: split(100), test: split(40) }, { clients: 6, shift: 'label', trainPerClient: 4, testPerClient: 2, seed: 1 });
    expect(clients.map((c) => (c.shift.kind === 'label' ? c.shift.classes : []))).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
      [8, 9],
      [0, 1],
    ]);
    for (const c of clients) {
      const classes = c.shift.kind === 'label' ? c.shift.classes : [];
      expect([...c.train.labels].sort()).toEqual([classes[0], classes[0], classes[1], classes[1]]);
      expect([...c.test.labels].sort()).toEqual(classes);
    }
    // Clients 0 and 5 share classes 0 and 1 but no image.
    const images = (c: (typeof clients)[number]) => Array.from({ length: c.train.length }, (_, i) => c.train.pixels.subarray(i * 4, i * 4 + 4).join(','));
    expect(images(clients[0]).filter((p) => images(clients[5]).includes(p))).toEqual([]);
    expect(() => clientData({ train: split(100), test: split(40) }, { clients: 6, shift: 'label', trainPerClient: 12, testPerClient: 2, seed: 1 })).toThrow('the training split has 10 images of class 0, fewer than the clients holding it need (6 each)');
  });
});
