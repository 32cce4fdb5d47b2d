import { beforeAll, describe, expect, it } from 'vitest';
import { add, crossEntropy, fromArray, keep, manualSeed, mul, Random, randn, SGD, tidy, type Tensor } from '@welford/core';
import { BatchNorm2d, checkPrivacy, Federation, gaussianMechanism, gaussianNoiseSigma, smallCnn, type AnyModule, type SmallCnn, type FederationOptions, type Module, type StateDict } from '../src/index.ts';
import { expectClose, useGpu } from './helpers.ts';

// Federated averaging (FedAvg, FedBN) checked against averages computed on the host in float64,
// and the Gaussian noise on shared statistics: σ, clipping, the noise's spread.

type Model = Module<[Tensor], Tensor>;

/** A tiny small CNN: conv1, bn1, conv2, bn2, fc (batch norm unless `norm` says otherwise). */
function tinyCnn(options: { width?: number; norm?: 'batch' | 'group' | 'none'; widths?: number[] } = {}): Model {
  const { width = 3, norm = 'batch', widths } = options;
  return widths ? smallCnn({ inChannels: 1, classes: 3, widths, norm, groups: 1 }) : smallCnn({ inChannels: 1, classes: 3, depth: 2, width, norm, groups: 1 });
}

/** Every state entry's values, by name. */
async function stateOf(model: AnyModule): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const e of model.stateEntries()) out[e.name] = await e.tensor.toArray();
  return out;
}

/** Gives the model random values everywhere: normal weights, positive variances, `count` batches tracked. */
async function randomize(model: AnyModule, rng: Random, count: number): Promise<void> {
  const state: StateDict = {};
  for (const e of model.stateEntries()) {
    const value = (): number => (e.dtype === 'int64' ? count : e.localName === 'runningVar' ? 0.5 + rng.uniform() : rng.normal());
    state[e.name] = { shape: e.tensor.shape, data: Float32Array.from({ length: e.tensor.size }, value) };
  }
  await model.loadStateDict(state);
}

/** Σ n_k v_k / Σ n_k in float64 for one entry, as float32. */
function hostAverage(states: readonly Record<string, Float32Array>[], samples: readonly number[], name: string): Float32Array {
  const total = samples.reduce((a, b) => a + b, 0);
  return Float32Array.from(states[0][name], (_, j) => states.reduce((s, state, k) => s + samples[k] * state[name][j], 0) / total);
}

async function federationOf(models: Model[], options: FederationOptions, counts: number[]): Promise<{ fed: Federation<Model>; before: Record<string, Float32Array>[] }> {
  const fed = await Federation.create(models, options);
  const rng = new Random(11);
  for (const [k, m] of models.entries()) await randomize(m, rng, counts[k]);
  return { fed, before: await Promise.all(models.map(stateOf)) };
}

const isStatistic = (name: string): boolean => /^bn\d\.(runningMean|runningVar|numBatchesTracked)$/.test(name);
const isAffine = (name: string): boolean => /^bn\d\.(weight|bias)$/.test(name);

describe('Federation', () => {
  beforeAll(async () => {
    await useGpu();
  });

  it('starts every client from client 0 (sameStart)', async () => {
    manualSeed(1);
    const models = [tinyCnn(), tinyCnn(), tinyCnn()];
    const first = await stateOf(models[0]);
    expect((await stateOf(models[1]))['conv1.weight']).not.toEqual(first['conv1.weight']);
    await Federation.create(models, { strategy: 'fedavg', samples: [1, 1, 1] });
    for (const m of models) expect(await stateOf(m)).toEqual(first);
  });

  it('FedAvg: every parameter and buffer becomes the sample-weighted average (counts rounded)', async () => {
    manualSeed(2);
    const samples = [10, 30, 70];
    const counts = [3, 10, 4];
    const models = [tinyCnn(), tinyCnn(), tinyCnn()];
    const { fed, before } = await federationOf(models, { strategy: 'fedavg', samples }, counts);
    const report = await fed.aggregate();
    expect(report.round).toBe(1);
    expectClose(report.weights, [10 / 110, 30 / 110, 70 / 110], 1e-15, 0, 'weights');
    expect(report.local).toEqual([]);
    expect(report.shared).toEqual(models[0].stateEntries().map((e) => e.name));
    expect(report.noise).toBeNull();
    const after = await Promise.all(models.map(stateOf));
    for (const name of report.shared) {
      // (10·3 + 30·10 + 70·4) / 110 = 5.545... → 6 for the counters.
      const want = name.endsWith('numBatchesTracked') ? Float32Array.of(6) : hostAverage(before, samples, name);
      for (const [k, state] of after.entries()) expectClose(state[name], want, 0, 1.2e-7, `client ${k} ${name}`);
    }
    // The host-side counter that forward uses moved with the buffer.
    expect(models.map((m) => ((m as SmallCnn).norms[1] as BatchNorm2d).numBatchesTracked)).toEqual([6, 6, 6]);
  });

  it('FedBN: the norm statistics stay each client\'s own; convolutions, fc and norm affine are averaged', async () => {
    manualSeed(3);
    const samples = [5, 1];
    const models = [tinyCnn(), tinyCnn()];
    const { fed, before } = await federationOf(models, { strategy: 'fedbn', samples }, [7, 2]);
    const report = await fed.aggregate();
    expect(report.local).toEqual(['bn1.runningMean', 'bn1.runningVar', 'bn1.numBatchesTracked', 'bn2.runningMean', 'bn2.runningVar', 'bn2.numBatchesTracked']);
    expect(report.shared).toContain('conv1.weight');
    expect(report.shared).toContain('bn1.weight');
    const after = await Promise.all(models.map(stateOf));
    for (const name of Object.keys(before[0])) {
      for (const k of [0, 1]) {
        if (isStatistic(name)) expect(after[k][name], `client ${k} ${name} untouched`).toEqual(before[k][name]);
        else expectClose(after[k][name], hostAverage(before, samples, name), 0, 1.2e-7, `client ${k} ${name}`);
      }
    }
    // The statistics really differed, so leaving them alone was a choice.
    expect(after[0]['bn1.runningMean']).not.toEqual(after[1]['bn1.runningMean']);
  });

  it('FedBN with localAffine keeps the norm layers\' weight and bias local too', async () => {
    manualSeed(4);
    const samples = [2, 3, 4];
    const models = [tinyCnn(), tinyCnn(), tinyCnn()];
    const { fed, before } = await federationOf(models, { strategy: 'fedbn', samples, localAffine: true }, [1, 1, 1]);
    const report = await fed.aggregate();
    expect(report.local).toEqual(['bn1.weight', 'bn1.bias', 'bn1.runningMean', 'bn1.runningVar', 'bn1.numBatchesTracked', 'bn2.weight', 'bn2.bias', 'bn2.runningMean', 'bn2.runningVar', 'bn2.numBatchesTracked']);
    const after = await Promise.all(models.map(stateOf));
    for (const name of Object.keys(before[0])) {
      for (const k of [0, 1, 2]) {
        if (isStatistic(name) || isAffine(name)) expect(after[k][name], `client ${k} ${name}`).toEqual(before[k][name]);
        else expectClose(after[k][name], hostAverage(before, samples, name), 0, 1.2e-7, `client ${k} ${name}`);
      }
    }
  });

  it('rounds of real local training: FedAvg clients end identical, FedBN clients share weights but keep their statistics; per-client evaluation', async () => {
    manualSeed(5);
    // Two clients whose inputs differ in scale and offset: a feature shift.
    const data = [0, 1].map((k) => ({ x: keep(tidy(() => add(mul(randn([6, 1, 5, 5]), 1 + 2 * k), 3 * k))), y: keep(fromArray([0, 1, 2, 0, 1, 2], [6])) }));
    const train = (model: Model, k: number): void => {
      model.train();
      const optimizer = new SGD(model.parameters(), { lr: 0.1 });
      for (let step = 0; step < 2; step++) {
        tidy(() => {
          model.zeroGrad();
          crossEntropy(model.call(data[k].x), data[k].y).backward();
          optimizer.step();
        });
      }
      optimizer.dispose();
    };
    const results: Record<string, Record<string, Float32Array>[]> = {};
    const evaluations: Record<string, { accuracy?: number; loss?: number }[]> = {};
    for (const strategy of ['fedavg', 'fedbn'] as const) {
      manualSeed(6);
      const fed = await Federation.create([tinyCnn(), tinyCnn()], { strategy, samples: [6, 6] });
      for (let r = 0; r < 2; r++) await fed.round(train);
      expect(fed.rounds).toBe(2);
      results[strategy] = await Promise.all(fed.clients.map(stateOf));
      evaluations[strategy] = await fed.evaluate((k) => [{ x: data[k].x, y: data[k].y }], { disposeBatches: false });
      fed.dispose();
    }
    const [a0, a1] = results.fedavg;
    expect(a1).toEqual(a0);
    const [b0, b1] = results.fedbn;
    expect(b1['conv1.weight']).toEqual(b0['conv1.weight']);
    expect(b1['fc.weight']).toEqual(b0['fc.weight']);
    expect(b1['bn1.runningMean']).not.toEqual(b0['bn1.runningMean']);
    // Each client's counter counts its own 2 rounds × 2 steps.
    expect(b1['bn1.numBatchesTracked']).toEqual(Float32Array.of(4));
    // Training normalizes with batch statistics, so local running statistics change no weight:
    // FedBN (without localAffine) trains exactly the weights FedAvg trains.
    for (const name of ['conv1.weight', 'bn1.weight', 'conv2.weight', 'fc.weight', 'fc.bias']) expect(b0[name], name).toEqual(a0[name]);
    for (const e of [...evaluations.fedavg, ...evaluations.fedbn]) {
      expect(e.accuracy).toBeGreaterThanOrEqual(0);
      expect(e.accuracy).toBeLessThanOrEqual(1);
      expect(Number.isFinite(e.loss)).toBe(true);
    }
    expect(evaluations.fedbn[0].loss).not.toBe(evaluations.fedavg[0].loss);
    data.forEach((d) => (d.x.dispose(), d.y.dispose()));
  });
});

describe('Gaussian noise on shared statistics', () => {
  beforeAll(async () => {
    await useGpu();
  });

  it('σ = C·sqrt(2·ln(1.25/δ))/ε', () => {
    expect(gaussianNoiseSigma({ epsilon: 0.5, delta: 1e-5, clip: 2 })).toBeCloseTo((2 * Math.sqrt(2 * Math.log(1.25e5))) / 0.5, 12);
    expect(gaussianNoiseSigma({ epsilon: 1, delta: 0.1, clip: 1 })).toBeCloseTo(Math.sqrt(2 * Math.log(12.5)), 12);
  });

  it('clips to the L2 bound before the noise, and the noise has standard deviation σ', () => {
    const rng = new Random(3);
    const values = Float64Array.from({ length: 20000 }, () => 5 + rng.normal());
    const norm = Math.hypot(...values);
    const result = gaussianMechanism(values, { clip: 1.5, sigma: 0.25 }, new Random(9));
    expect(result.norm).toBeCloseTo(norm, 6);
    expect(result.scale).toBeCloseTo(1.5 / norm, 15);
    expect(Math.hypot(...result.clipped)).toBeLessThanOrEqual(1.5 * (1 + 1e-12));
    expectClose(result.clipped, values.map((v) => v * result.scale), 1e-15, 1e-12, 'clipped');
    const noise = result.released.map((v, i) => v - result.clipped[i]);
    const mean = noise.reduce((a, b) => a + b, 0) / noise.length;
    const std = Math.sqrt(noise.reduce((a, b) => a + (b - mean) ** 2, 0) / (noise.length - 1));
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(std).toBeGreaterThan(0.25 * 0.97);
    expect(std).toBeLessThan(0.25 * 1.03);
    // A vector inside the bound is left as it is; the same seed gives the same noise.
    const small = gaussianMechanism([0.3, 0.4], { clip: 1, sigma: 1 }, new Random(4));
    expect(small.scale).toBe(1);
    expect([...small.clipped]).toEqual([0.3, 0.4]);
    expect([...gaussianMechanism([0.3, 0.4], { clip: 1, sigma: 1 }, new Random(4)).released]).toEqual([...small.released]);
  });

  it('FedAvg with privacy: each client\'s statistics clipped to C, noised with σ, and the server averages what was released', async () => {
    manualSeed(7);
    const samples = [1, 2, 3];
    const models = [0, 1, 2].map(() => tinyCnn({ widths: [40, 40] }));
    const privacy = { epsilon: 1, delta: 1e-3, clip: 4, seed: 5 };
    const { fed, before } = await federationOf(models, { strategy: 'fedavg', samples, privacy }, [2, 2, 2]);
    const sigma = 4 * Math.sqrt(2 * Math.log(1250));
    expect(fed.sigma).toBeCloseTo(sigma, 12);
    const report = await fed.aggregate();
    const noise = report.noise!;
    expect(noise).toMatchObject({ epsilon: 1, delta: 1e-3, clip: 4 });
    expect(noise.sigma).toBe(fed.sigma);
    expect(noise.statistics).toEqual(['bn1.runningMean', 'bn1.runningVar', 'bn2.runningMean', 'bn2.runningVar']);
    const allNoise: number[] = [];
    for (const [k, client] of noise.clients.entries()) {
      const vector = Float64Array.from(noise.statistics.flatMap((name) => [...before[k][name]]));
      const norm = Math.hypot(...vector);
      expect(client.norm).toBeCloseTo(norm, 4);
      // Clipping was applied (the statistics of 160 values are far longer than 4), and the clipped vector is within C.
      expect(client.scale).toBeCloseTo(4 / norm, 10);
      const clipped = vector.map((v) => v * client.scale);
      expect(Math.hypot(...clipped)).toBeLessThanOrEqual(4 * (1 + 1e-12));
      client.released.forEach((v, i) => allNoise.push(v - clipped[i]));
    }
    const std = Math.sqrt(allNoise.reduce((a, b) => a + b * b, 0) / allNoise.length);
    // 480 draws: the sample standard deviation is within 10 % of σ with overwhelming probability.
    expect(std).toBeGreaterThan(sigma * 0.9);
    expect(std).toBeLessThan(sigma * 1.1);
    // The broadcast statistics are the weighted average of the released vectors (variances clamped at 0).
    const after = await Promise.all(models.map(stateOf));
    let offset = 0;
    for (const name of noise.statistics) {
      const n = before[0][name].length;
      const want = Float32Array.from({ length: n }, (_, j) => {
        const v = noise.clients.reduce((s, c, k) => s + samples[k] * c.released[offset + j], 0) / 6;
        return name.endsWith('runningVar') ? Math.max(0, v) : v;
      });
      for (const state of after) expectClose(state[name], want, 1e-6, 1e-6, name);
      offset += n;
    }
    // Weights are averaged without noise.
    for (const state of after) expectClose(state['conv1.weight'], hostAverage(before, samples, 'conv1.weight'), 0, 1.2e-7, 'conv1.weight');
    // A second round draws fresh noise.
    const second = await fed.aggregate();
    expect(second.noise!.clients[0].released[0]).not.toBe(noise.clients[0].released[0]);
  });
});

describe('Federation: bad input changes nothing', () => {
  beforeAll(async () => {
    await useGpu();
  });

  async function expectRefused(models: Model[], options: FederationOptions, message: string | RegExp): Promise<void> {
    const before = await Promise.all(models.map(stateOf));
    await expect(Federation.create(models, options)).rejects.toThrow(message);
    expect(await Promise.all(models.map(stateOf))).toEqual(before);
  }

  it('refuses empty federations, bad weights, bad privacy and different architectures', async () => {
    manualSeed(8);
    await expect(Federation.create([], { strategy: 'fedavg', samples: [] })).rejects.toThrow('Federation: needs at least one client model, got 0');
    const models = [tinyCnn(), tinyCnn()];
    const fedavg = (extra: Partial<FederationOptions>): FederationOptions => ({ strategy: 'fedavg', samples: [1, 1], ...extra });
    const dp = (p: Partial<{ epsilon: number; delta: number; clip: number }>) => fedavg({ privacy: { epsilon: 0.5, delta: 1e-5, clip: 1, ...p } });
    await expectRefused(models, dp({ epsilon: 0 }), 'Federation: privacy.epsilon must be > 0, got 0');
    await expectRefused(models, dp({ epsilon: -1 }), 'Federation: privacy.epsilon must be > 0, got -1');
    await expectRefused(models, dp({ epsilon: 2 }), 'privacy.epsilon must be at most 1, got 2');
    await expectRefused(models, dp({ delta: 0 }), 'Federation: privacy.delta must be in (0, 1), got 0');
    await expectRefused(models, dp({ delta: 1 }), 'Federation: privacy.delta must be in (0, 1), got 1');
    await expectRefused(models, dp({ clip: 0 }), 'Federation: privacy.clip (the L2 bound C) must be a finite number > 0, got 0');
    await expectRefused(models, { strategy: 'fedbn', samples: [1, 1], privacy: { epsilon: 0.5, delta: 1e-5, clip: 1 } }, 'fedbn keeps the normalization statistics on each client and sends none to the server, so there is nothing for the privacy noise to protect');
    await expectRefused(models, fedavg({ samples: [1] }), 'Federation: samples has 1 entries for 2 clients');
    await expectRefused(models, fedavg({ samples: [1, 0] }), "Federation: samples[1] (client 1's training samples) must be a finite number > 0, got 0");
    await expectRefused(models, fedavg({ localAffine: true }), 'localAffine keeps the normalization layers\' weight and bias on each client, an option of fedbn');
    await expectRefused(models, { strategy: 'fedprox' as 'fedavg', samples: [1, 1] }, 'Federation: strategy must be one of fedavg, fedbn, got fedprox');
    await expectRefused([models[0], models[0]], fedavg({}), 'Federation: clients 0 and 1 are the same model object; each client needs its own copy');
    await expectRefused([models[0], tinyCnn({ width: 4 })], fedavg({}), "Federation: client 1's model differs from client 0's (every client needs the same architecture): state entry 0 is conv1.weight (Conv2d parameter [3, 1, 3, 3]) on client 0 and conv1.weight (Conv2d parameter [4, 1, 3, 3]) on client 1");
    await expectRefused([models[0], models[1], tinyCnn({ norm: 'group' })], { strategy: 'fedbn', samples: [1, 1, 1] }, "client 2's model differs from client 0's (every client needs the same architecture): state entry 1 is bn1.weight (BatchNorm2d parameter [3]) on client 0 and bn1.weight (GroupNorm parameter [3]) on client 2");
    const group = [tinyCnn({ norm: 'group' }), tinyCnn({ norm: 'group' })];
    await expectRefused(group, { strategy: 'fedavg', samples: [1, 1], privacy: { epsilon: 1, delta: 0.1, clip: 1 } }, "the clients' models have no normalization statistics (no running mean or variance) to share");
    expect(() => checkPrivacy('x', { epsilon: 1, delta: 0.5, clip: Infinity })).toThrow('x: privacy.clip (the L2 bound C) must be a finite number > 0, got Infinity');
  });

  it('an aggregation that cannot read a client writes to none', async () => {
    manualSeed(9);
    const models = [tinyCnn(), tinyCnn()];
    const { fed } = await federationOf(models, { strategy: 'fedavg', samples: [1, 1] }, [1, 1]);
    const first = await stateOf(models[0]);
    models[1].dispose();
    await expect(fed.aggregate()).rejects.toThrow("Federation: client 1's conv1.weight was disposed");
    expect(await stateOf(models[0])).toEqual(first);
    expect(fed.rounds).toBe(0);
  });
});
