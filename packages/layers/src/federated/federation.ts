import { Random, type Tensor } from '@welford/core';
import type { HostTensor, StateDict } from '../module/load_state.ts';
import type { Module } from '../module/module.ts';
import { readTogether } from '../training/device_sum.ts';
import { evaluate, type EvaluateOptions, type Evaluation } from '../training/evaluate.ts';
import type { TrainingBatch } from '../training/batch.ts';
import { checkPrivacy, gaussianMechanism, gaussianNoiseSigma, type StatisticsPrivacy } from './gaussian_mechanism.ts';
import { checkSameArchitecture, FEDERATED_STRATEGIES, federatedEntries, type FederatedEntry, type FederatedStrategy } from './state_roles.ts';

/** Options of `Federation.create`. */
export interface FederationOptions {
  /** 'fedavg': average every parameter and buffer; 'fedbn': keep the normalization statistics on each client. */
  strategy: FederatedStrategy;
  /** Each client's training samples: its weight in the average is samples[k] / Σ samples. */
  samples: readonly number[];
  /** FedBN only: keep the normalization layers' weight and bias on each client too (default false). */
  localAffine?: boolean;
  /**
   * FedAvg only: Gaussian noise on the normalization statistics each client sends (clipped to
   * an L2 bound first); null or absent: none. FedBN sends no statistics, so it takes none.
   */
  privacy?: StatisticsPrivacy | null;
  /** Copy client 0's parameters and buffers to every other client first, so all start alike (default true). */
  sameStart?: boolean;
}

/** What the noise did to one client's statistics in one round. */
export interface ClientNoise {
  /** The L2 norm of the client's statistics vector before clipping. */
  norm: number;
  /** min(1, C / norm): the factor clipping applied. */
  scale: number;
  /** The clipped, noised vector the server received (the `statistics` entries, concatenated in order). */
  released: Float64Array;
}

/** The Gaussian noise of one round. */
export interface NoiseReport {
  epsilon: number;
  delta: number;
  clip: number;
  /** The noise's standard deviation per value: C·sqrt(2·ln(1.25/δ))/ε. */
  sigma: number;
  /** The noised entries (running means and variances), in the order of each client's vector. */
  statistics: string[];
  /** Per client. */
  clients: ClientNoise[];
}

/** What one averaging did. */
export interface AggregationReport {
  /** Averagings so far, this one included (1 is the first). */
  round: number;
  /** Each client's weight: samples[k] / Σ samples. */
  weights: number[];
  /** The entries averaged and written to every client. */
  shared: string[];
  /** The entries left as each client had them. */
  local: string[];
  /** The noise on the shared statistics (null without privacy). */
  noise: NoiseReport | null;
}

const OWNER = 'Federation';

function checkSamples(samples: readonly number[], clients: number): number[] {
  if (!Array.isArray(samples)) throw new Error(`${OWNER}: samples must be an array of each client's training samples, got ${String(samples)}`);
  if (samples.length !== clients) throw new Error(`${OWNER}: samples has ${samples.length} entries for ${clients} clients; give one count per client`);
  samples.forEach((n, k) => {
    if (typeof n !== 'number' || !(n > 0) || !Number.isFinite(n)) throw new Error(`${OWNER}: samples[${k}] (client ${k}'s training samples) must be a finite number > 0, got ${String(n)}`);
  });
  const total = samples.reduce((a, b) => a + b, 0);
  return samples.map((n) => n / total);
}

/**
 * Federated training simulated on one machine: K clients, each with its own copy of a model (the
 * same architecture) and its own data, and a server that averages. Each round every client
 * trains from what it holds (the global weights, and for FedBN its own normalization
 * statistics), then `aggregate` replaces every shared entry on every client by the weighted
 * average Σ_k (n_k / n)·v_k, computed on the host in float64, and leaves the local entries alone:
 *
 * - FedAvg (McMahan et al. 2017) shares every parameter and buffer. Running means and variances
 *   are averaged like weights; numBatchesTracked becomes the weighted average of the clients'
 *   counts rounded to an integer (with equal local steps, every client's count).
 * - FedBN (Li et al. 2021) keeps every normalization layer's statistics (running mean, variance,
 *   numBatchesTracked) on its client, and with `localAffine` its weight and bias too.
 *
 * With `privacy` (FedAvg), each client's running means and variances, concatenated into one
 * vector, are clipped to L2 norm C and noised with N(0, σ²) per value before the server averages
 * them (see `gaussianMechanism`); averaged variances below 0 become 0.
 *
 * Every check runs before anything is written: a bad argument, models of different
 * architectures, or a disposed tensor leave every client as it was.
 */
export class Federation<M extends Module<[Tensor], Tensor> = Module<[Tensor], Tensor>> {
  /** Averagings done so far. */
  rounds = 0;
  /** The noise's σ per value (null without privacy). */
  readonly sigma: number | null;
  private readonly rng: Random | null;

  private constructor(
    readonly clients: readonly M[],
    readonly strategy: FederatedStrategy,
    readonly localAffine: boolean,
    readonly weights: readonly number[],
    /** Every state entry with its part and whether it is shared. */
    readonly entries: readonly FederatedEntry[],
    private readonly privacy: Required<StatisticsPrivacy> | null,
  ) {
    this.sigma = privacy ? gaussianNoiseSigma(privacy) : null;
    this.rng = privacy ? new Random(privacy.seed) : null;
  }

  /** Checks the clients and options, then (with `sameStart`) copies client 0's state to the others. */
  static async create<M extends Module<[Tensor], Tensor>>(models: readonly M[], options: FederationOptions): Promise<Federation<M>> {
    if (!Array.isArray(models) || models.length === 0) throw new Error(`${OWNER}: needs at least one client model, got ${Array.isArray(models) ? 0 : String(models)}`);
    if (options === null || typeof options !== 'object') throw new Error(`${OWNER}: options must be an object { strategy, samples, ... }, got ${String(options)}`);
    const { strategy, localAffine = false, privacy = null, sameStart = true } = options;
    if (!FEDERATED_STRATEGIES.includes(strategy)) throw new Error(`${OWNER}: strategy must be one of ${FEDERATED_STRATEGIES.join(', ')}, got ${String(strategy)}`);
    if (typeof localAffine !== 'boolean') throw new Error(`${OWNER}: localAffine must be a boolean, got ${String(localAffine)}`);
    if (localAffine && strategy !== 'fedbn') throw new Error(`${OWNER}: localAffine keeps the normalization layers' weight and bias on each client, an option of fedbn; fedavg averages everything`);
    if (typeof sameStart !== 'boolean') throw new Error(`${OWNER}: sameStart must be a boolean, got ${String(sameStart)}`);
    checkSameArchitecture(OWNER, models);
    const weights = checkSamples(options.samples, models.length);
    const entries = federatedEntries(models[0], strategy, localAffine);
    let checked: Required<StatisticsPrivacy> | null = null;
    if (privacy !== null) {
      checked = checkPrivacy(OWNER, privacy);
      if (strategy === 'fedbn') {
        throw new Error(`${OWNER}: fedbn keeps the normalization statistics on each client and sends none to the server, so there is nothing for the privacy noise to protect (the shared weights are not noised); use privacy with fedavg`);
      }
      if (!entries.some(isNoised)) {
        throw new Error(`${OWNER}: the clients' models have no normalization statistics (no running mean or variance) to share, so there is nothing for the privacy noise to protect (the shared weights are not noised)`);
      }
    }
    if (sameStart) {
      const state = models[0].stateDict();
      for (const m of models.slice(1)) await m.loadStateDict(state);
    }
    return new Federation(models, strategy, localAffine, weights, entries, checked);
  }

  /** The number of clients. */
  get size(): number {
    return this.clients.length;
  }

  /**
   * One round: `train(model, k)` for each client in turn (awaited; e.g. a few epochs of `fit`
   * on client k's data), then `aggregate()`. A `train` that throws ends the round before the
   * averaging: the clients that trained keep their local updates.
   */
  async round(train: (model: M, client: number) => unknown): Promise<AggregationReport> {
    if (typeof train !== 'function') throw new Error(`${OWNER}: round needs a function (model, client) => training, got ${String(train)}`);
    for (const [k, model] of this.clients.entries()) await train(model, k);
    return this.aggregate();
  }

  /**
   * The server's step: reads every client's state, averages the shared entries in float64
   * (noising the statistics first with privacy), and writes the averages to every client.
   */
  async aggregate(): Promise<AggregationReport> {
    checkSameArchitecture(OWNER, this.clients);
    const states = await Promise.all(this.clients.map((m) => readTogether(m.stateEntries().map((e) => e.tensor))));
    const values: ArrayLike<number>[][] = states.map((s) => [...s]);
    const noise = this.privacy ? this.addNoise(values) : null;
    const averaged: StateDict = {};
    this.entries.forEach((entry, i) => {
      if (!entry.shared) return;
      const sum = new Float64Array(values[0][i].length);
      values.forEach((client, k) => {
        const w = this.weights[k];
        const v = client[i];
        for (let j = 0; j < sum.length; j++) sum[j] += w * v[j];
      });
      let data = Float32Array.from(sum);
      if (entry.dtype === 'int64') data = data.map((v) => Math.round(v));
      // Noise can take a variance below zero; the server clamps it (post-processing).
      else if (noise && isNoised(entry) && entry.localName === 'runningVar') data = data.map((v) => Math.max(0, v));
      averaged[entry.name] = { shape: entry.shape, data } satisfies HostTensor;
    });
    for (const model of this.clients) await model.loadStateDict(averaged, { strict: false });
    this.rounds += 1;
    return {
      round: this.rounds,
      weights: [...this.weights],
      shared: this.entries.filter((e) => e.shared).map((e) => e.name),
      local: this.entries.filter((e) => !e.shared).map((e) => e.name),
      noise,
    };
  }

  /** Replaces each client's noised entries by their clipped, noised values; returns what was done. */
  private addNoise(values: ArrayLike<number>[][]): NoiseReport {
    const privacy = this.privacy!;
    const sigma = this.sigma!;
    const noised = this.entries.flatMap((e, i) => (e.shared && isNoised(e) ? [i] : []));
    const clients = values.map((client) => {
      const vector = new Float64Array(noised.reduce((n, i) => n + client[i].length, 0));
      let offset = 0;
      for (const i of noised) {
        vector.set(client[i], offset);
        offset += client[i].length;
      }
      const result = gaussianMechanism(vector, { clip: privacy.clip, sigma }, this.rng!);
      offset = 0;
      for (const i of noised) {
        client[i] = result.released.subarray(offset, offset + client[i].length);
        offset += client[i].length;
      }
      return { norm: result.norm, scale: result.scale, released: result.released };
    });
    return { epsilon: privacy.epsilon, delta: privacy.delta, clip: privacy.clip, sigma, statistics: noised.map((i) => this.entries[i].name), clients };
  }

  /**
   * Evaluates each client's model (after FedBN: the shared weights with its own statistics) on
   * its own batches, `batches(k)` (e.g. client k's test shard), with `evaluate`.
   */
  async evaluate<B extends TrainingBatch>(batches: (client: number) => Iterable<B>, options: EvaluateOptions<B> = {}): Promise<Evaluation[]> {
    if (typeof batches !== 'function') throw new Error(`${OWNER}: evaluate needs a function client => batches, got ${String(batches)}`);
    const out: Evaluation[] = [];
    for (const [k, model] of this.clients.entries()) out.push(await evaluate(model, batches(k), options));
    return out;
  }

  /** Frees every client's model. */
  dispose(): void {
    for (const m of this.clients) m.dispose();
  }
}

/** Whether privacy noises an entry: a float normalization statistic (running means and variances, not counters). */
function isNoised(entry: FederatedEntry): boolean {
  return entry.part === 'norm-statistics' && entry.dtype === 'float32';
}
