// Node: `welford federated`. Simulated federated training on one device: K clients with
// disjoint, non-IID shards of a dataset (a brightness/contrast shift each, or two classes each)
// train copies of one small CNN for a few local steps per round, and a server averages them by
// FedAvg and by FedBN (which keeps batch-norm statistics on each client), from the same
// initial weights and the same data. Prints each client's test accuracy under both rules.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { manualSeed } from '@welford/core';
import { deriveSeed, type LabeledImages } from '@welford/data';
import { Federation, fit, NonFiniteLossError, type AggregationReport } from '@welford/layers';
import { RunError } from '../errors.ts';
import { checkNoEarlierFiles } from '../existing_outputs.ts';
import { startBackend } from './backend_node.ts';
import { describeConfig, resolveConfig, type TrainConfig } from './config.ts';
import { testBatches, trainBatches, type RunBatch } from './data_pipeline.ts';
import { loadDatasets } from './datasets_node.ts';
import { parseFederatedArgs, type FederatedOptions } from './federated_args.ts';
import { clientData, describeShift, type ClientData } from './federated_data.ts';
import { clientTable, meanRow, STRATEGY_LABELS, type ClientRow, type StrategyName } from './federated_report.ts';
import { buildModel } from './model.ts';
import { buildOptimizer } from './optimizer.ts';
import { writeAtomic } from './atomic_file.ts';
import { toJsonText } from '@welford/stats';
import { userPath } from './outputs.ts';
import type { TextOut } from './progress.ts';
import { testMetrics, type TestMetrics } from './step_log.ts';

/** One round of one rule, as printed and written. */
export interface RoundLog {
  round: number;
  /** Mean over clients of their mean training loss over the round's local steps. */
  meanLocalLoss: number;
  /** With noise: the mean over clients of the clipping factor min(1, C/‖s_k‖). */
  meanClipScale: number | null;
  seconds: number;
}

/** The noise FedAvg added to the statistics it shares. */
export interface NoiseSummary {
  epsilon: number;
  delta: number;
  clip: number;
  sigma: number;
  /** The noised entries of each client's statistics vector. */
  statistics: string[];
  /** The length of that vector. */
  values: number;
}

/** What `--json OUT` holds. */
export interface FederatedReport {
  command: string;
  options: FederatedOptions;
  config: TrainConfig;
  adapter: string;
  localStepsPerRound: number;
  clients: ClientRow[];
  mean: ReturnType<typeof meanRow>;
  noise: NoiseSummary | null;
  rounds: Partial<Record<StrategyName, RoundLog[]>>;
  wallSeconds: number;
}

/** Every batch of a shard, epoch after epoch, without end: each round takes the next ones. */
function* endless(source: ReturnType<typeof trainBatches>): Generator<RunBatch> {
  for (let epoch = 0; ; epoch++) yield* source.batches(epoch);
}

/** The next `n` batches of a stream (the stream stays open for the next round). */
function* take(stream: Iterator<RunBatch>, n: number): Generator<RunBatch> {
  for (let i = 0; i < n; i++) {
    const next = stream.next();
    if (next.done) return;
    yield next.value;
  }
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Trains the clients by one rule from fresh, seeded weights; returns each client's test metrics. */
async function runRule(
  strategy: StrategyName,
  o: FederatedOptions,
  config: TrainConfig,
  clients: readonly ClientData[],
  stepsPerRound: number,
  out: TextOut,
): Promise<{ tests: TestMetrics[]; rounds: RoundLog[]; noise: AggregationReport['noise'] }> {
  // The same seed for both rules: the same initial weights (client 0's, copied to the others).
  manualSeed(config.seed);
  const models = clients.map(() => buildModel(config));
  let federation: Federation;
  try {
    federation = await Federation.create(models, {
      strategy,
      samples: clients.map((c) => c.train.length),
      localAffine: strategy === 'fedbn' && o.localAffine,
      privacy: strategy === 'fedavg' && o.dp ? { ...o.dp, seed: o.seed } : null,
    });
  } catch (e) {
    models.forEach((m) => m.dispose());
    throw e;
  }
  try {
    // Each client's own shuffling seed, the same under both rules: the same batches in the same order.
    const streams = clients.map((c, k) => endless(trainBatches({ ...config, seed: deriveSeed(o.seed, 4, k) }, c.train)));
    const rounds: RoundLog[] = [];
    let noise: AggregationReport['noise'] = null;
    for (let r = 1; r <= o.rounds; r++) {
      const start = performance.now();
      const losses: number[] = [];
      const report = await federation.round(async (model, k) => {
        const optimizer = buildOptimizer(config, model.parameters());
        try {
          const history = await fit(model, { train: take(streams[k], stepsPerRound), epochs: 1, optimizer, readEvery: 0, accuracy: false });
          losses.push(history.epochs[0].loss);
        } catch (e) {
          if (e instanceof NonFiniteLossError) throw new RunError(`${STRATEGY_LABELS[strategy]} round ${r}, client ${k}: ${e.message.replace(/^fit: /, '')}; lower --lr`);
          throw e;
        } finally {
          optimizer.dispose();
        }
      });
      noise = report.noise;
      const log: RoundLog = { round: r, meanLocalLoss: mean(losses), meanClipScale: noise ? mean(noise.clients.map((c) => c.scale)) : null, seconds: (performance.now() - start) / 1000 };
      rounds.push(log);
      if (!Number.isFinite(log.meanLocalLoss)) throw new RunError(`${STRATEGY_LABELS[strategy]} round ${r}: a client's training loss is ${log.meanLocalLoss}; lower --lr`);
      const clip = log.meanClipScale === null ? '' : `, statistics clipped by x${log.meanClipScale.toPrecision(3)} on average`;
      out.write(`${STRATEGY_LABELS[strategy].padEnd(6)} round ${r}/${o.rounds}: mean local loss ${log.meanLocalLoss.toFixed(4)}${clip} (${log.seconds.toFixed(1)} s)\n`);
    }
    const evaluations = await federation.evaluate((k) => testBatches(config, clients[k].test));
    return { tests: evaluations.map((e) => testMetrics(e, 1)), rounds, noise };
  } finally {
    federation.dispose();
  }
}

/** Runs `welford federated ARGS`; returns the exit status (errors are thrown for main to report). */
export async function federatedCommand(args: readonly string[], out: TextOut = process.stdout): Promise<number> {
  const started = performance.now();
  const o = parseFederatedArgs(args);
  const config = resolveConfig({ model: o.model, depth: o.depth, width: o.width, norm: o.norm, groups: o.groups, dataset: o.dataset, batch: o.batch, lr: o.lr, momentum: o.momentum, seed: o.seed, statsEvery: 0 });
  const jsonPath = o.json === null ? null : userPath(o.json);
  // Before the data is loaded: an earlier report is refused before minutes of training, not after.
  if (jsonPath) checkNoEarlierFiles('the --json file', [jsonPath], '--json', o.overwrite);
  const splits = loadDatasets(config, ['train', 'test']) as { train: LabeledImages; test: LabeledImages };
  const clients = clientData(splits, o);
  const stepsPerRound = o.localSteps ?? o.localEpochs! * Math.floor(o.trainPerClient / o.batch);
  const backend = await startBackend(o.cpu);

  const rules = o.strategies.map((s) => STRATEGY_LABELS[s] + (s === 'fedbn' && o.localAffine ? ' (local affine)' : '')).join(' and ');
  const local = o.localSteps !== null ? `${o.localSteps} local steps` : `${o.localEpochs} local epoch${o.localEpochs === 1 ? '' : 's'} (${stepsPerRound} steps)`;
  out.write(`welford federated: ${o.clients} clients, ${rules}, ${o.rounds} rounds of ${local}; ${o.shift === 'label' ? 'two classes per client' : 'a brightness and contrast shift per client'}\n`);
  out.write(`${describeConfig(config)}; ${o.trainPerClient} training and ${o.testPerClient} test images per client\n`);
  out.write(`training on ${backend.description}\n`);

  const rows: ClientRow[] = clients.map((c) => ({ client: c.client, shift: c.shift, shiftLabel: describeShift(c.shift), trainSamples: c.train.length, testSamples: c.test.length }));
  const rounds: FederatedReport['rounds'] = {};
  let noise: NoiseSummary | null = null;
  for (const strategy of o.strategies) {
    const result = await runRule(strategy, o, config, clients, stepsPerRound, out);
    result.tests.forEach((t, k) => (rows[k][strategy] = t));
    rounds[strategy] = result.rounds;
    if (result.noise) noise = { epsilon: result.noise.epsilon, delta: result.noise.delta, clip: result.noise.clip, sigma: result.noise.sigma, statistics: result.noise.statistics, values: result.noise.clients[0].released.length };
  }

  out.write(`\ntest accuracy of each client's model on its own test images:\n${clientTable(rows, o.strategies)}\n`);
  if (noise) {
    const fedbn = o.strategies.includes('fedbn') ? '; FedBN shares no statistics, so nothing of it is noised' : '';
    out.write(`\nnoise: FedAvg's batch-norm statistics (${noise.statistics.length / 2} layers' running means and variances, ${noise.values} values) clipped to L2 norm ${noise.clip} per client, plus Gaussian noise σ = ${noise.sigma.toPrecision(4)} per value per round (ε = ${noise.epsilon}, δ = ${noise.delta})${fedbn}\n`);
  }
  if (jsonPath) {
    const report: FederatedReport = {
      command: ['welford', 'federated', ...args].join(' '),
      options: o,
      config,
      adapter: backend.description,
      localStepsPerRound: stepsPerRound,
      clients: rows,
      mean: meanRow(rows, o.strategies),
      noise,
      rounds,
      wallSeconds: (performance.now() - started) / 1000,
    };
    mkdirSync(dirname(jsonPath), { recursive: true });
    writeAtomic(jsonPath, `${toJsonText(report, 2)}\n`);
    out.write(`wrote ${jsonPath}\n`);
  }
  return 0;
}
