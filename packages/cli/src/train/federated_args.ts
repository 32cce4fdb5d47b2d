// The flags of `welford federated`: `--flag value` or `--flag=value`, booleans without a value,
// every mistake a UsageError naming the flag.
import { UsageError } from '../errors.ts';
import { NORMS, type NormName } from './config.ts';
import { flagInteger, flagNumber } from './flag_numbers.ts';

export const FEDERATED_DATASETS = ['fashion-mnist', 'mnist'] as const;
export const SHIFTS = ['brightness', 'label'] as const;

/** How the clients' data differ: brightness and contrast per client, or two classes per client. */
export type ShiftKind = (typeof SHIFTS)[number];
export type FederatedDataset = (typeof FEDERATED_DATASETS)[number];

/** Gaussian noise on the statistics FedAvg shares. */
export interface DpOptions {
  epsilon: number;
  delta: number;
  clip: number;
}

/** What `welford federated` takes, defaults filled in. */
export interface FederatedOptions {
  clients: number;
  /** Which averaging rules run (both unless --fedavg or --fedbn alone). */
  strategies: ('fedavg' | 'fedbn')[];
  localAffine: boolean;
  rounds: number;
  /** Local optimizer steps per round, or local epochs over the client's shard (exactly one is set). */
  localSteps: number | null;
  localEpochs: number | null;
  dataset: FederatedDataset;
  model: 'small-cnn';
  depth: number;
  width: number;
  norm: NormName;
  groups: number;
  batch: number;
  lr: number;
  momentum: number;
  shift: ShiftKind;
  trainPerClient: number;
  testPerClient: number;
  dp: DpOptions | null;
  seed: number;
  json: string | null;
  /** Replace an existing --json file (default false: refuse it). */
  overwrite: boolean;
  cpu: boolean;
}

/**
 * The defaults: 8 clients, 5 rounds of 8 local steps of 16 images on a small CNN of 3 stages of
 * width 8, 320 training and 100 test images per client. Each rule trains 8 × 5 × 8 = 320 steps:
 * the command takes about 2.5 minutes on SwiftShader (docs/federated.md), a smoke-sized run
 * whose accuracies stay low; the usage says how to make it bigger.
 */
export const FEDERATED_DEFAULTS = {
  clients: 8,
  rounds: 5,
  localSteps: 8,
  dataset: 'fashion-mnist',
  model: 'small-cnn',
  depth: 3,
  width: 8,
  norm: 'batch',
  groups: 8,
  batch: 16,
  lr: 0.1,
  momentum: 0.9,
  shift: 'brightness',
  trainPerClient: 320,
  testPerClient: 100,
  seed: 1,
} as const;

const BOOLEAN = ['--fedavg', '--fedbn', '--local-affine', '--overwrite', '--cpu'] as const;
const VALUED = [
  '--clients',
  '--rounds',
  '--local-steps',
  '--local-epochs',
  '--dataset',
  '--model',
  '--depth',
  '--width',
  '--norm',
  '--groups',
  '--batch',
  '--lr',
  '--momentum',
  '--shift',
  '--train-per-client',
  '--test-per-client',
  '--dp-epsilon',
  '--dp-delta',
  '--dp-clip',
  '--seed',
  '--json',
] as const;
const FLAGS: readonly string[] = [...VALUED, ...BOOLEAN];

const number = (flag: string, raw: string): number => flagNumber(flag, raw);
const integer = (flag: string, raw: string, min: number): number => flagInteger(flag, raw, min);

function choice<T extends string>(flag: string, values: readonly T[], raw: string): T {
  if ((values as readonly string[]).includes(raw)) return raw as T;
  throw new UsageError(`${flag} must be one of ${values.join(', ')}, got "${raw}"`);
}

/** Splits `--flag=value` / `--flag value` pairs into a map, refusing unknown and repeated flags. */
function flagValues(args: readonly string[]): Map<string, string | true> {
  const given = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}" (welford federated takes only flags: ${FLAGS.join(' ')})`);
    const eq = arg.indexOf('=');
    const [flag, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    if (!FLAGS.includes(flag)) throw new UsageError(`unknown option ${flag} for welford federated; valid options: ${FLAGS.join(' ')}`);
    if (given.has(flag)) throw new UsageError(`${flag} given twice`);
    if ((BOOLEAN as readonly string[]).includes(flag)) {
      if (inline !== undefined) throw new UsageError(`${flag} takes no value, got "${inline}"`);
      given.set(flag, true);
      continue;
    }
    const raw = inline ?? args[++i];
    if (raw === undefined || raw === '' || (inline === undefined && raw.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
    given.set(flag, raw);
  }
  return given;
}

/** Parses `welford federated ARGS`; every mistake is a UsageError. */
export function parseFederatedArgs(args: readonly string[]): FederatedOptions {
  const given = flagValues(args);
  const raw = (flag: string): string | undefined => {
    const v = given.get(flag);
    return v === true ? undefined : v;
  };
  const int = (flag: string, fallback: number, min: number): number => {
    const v = raw(flag);
    return v === undefined ? fallback : integer(flag, v, min);
  };
  const positive = (flag: string, fallback: number, { allowZero = false, below = Infinity } = {}): number => {
    const v = raw(flag);
    if (v === undefined) return fallback;
    const n = number(flag, v);
    if (!(allowZero ? n >= 0 : n > 0) || !(n < below)) throw new UsageError(`${flag} must be a number ${allowZero ? '>= 0' : '> 0'}${below < Infinity ? ` and < ${below}` : ''}, got ${v}`);
    return n;
  };
  const d = FEDERATED_DEFAULTS;

  const fedavg = given.has('--fedavg');
  const fedbn = given.has('--fedbn');
  const strategies: FederatedOptions['strategies'] = fedavg === fedbn ? ['fedavg', 'fedbn'] : fedavg ? ['fedavg'] : ['fedbn'];
  if (given.has('--local-steps') && given.has('--local-epochs')) throw new UsageError('give --local-steps or --local-epochs, not both');
  const localEpochs = given.has('--local-epochs') ? int('--local-epochs', 1, 1) : null;
  const localSteps = localEpochs === null ? int('--local-steps', d.localSteps, 1) : null;
  const norm = choice('--norm', NORMS, raw('--norm') ?? d.norm);
  const batch = int('--batch', d.batch, 1);
  if (batch === 1 && (norm === 'batch' || norm === 'batch-renorm')) throw new UsageError(`--batch 1 with --norm ${norm}: batch statistics of one sample are that sample's own; use a batch of at least 2`);
  const trainPerClient = int('--train-per-client', d.trainPerClient, 1);
  if (trainPerClient < batch) throw new UsageError(`--train-per-client ${trainPerClient} is less than one batch of ${batch}: every client needs at least one full batch (raise it, or lower --batch)`);
  const localAffine = given.has('--local-affine');
  if (localAffine && !strategies.includes('fedbn')) throw new UsageError('--local-affine keeps the norm layers\' weight and bias local under FedBN; it does nothing with --fedavg alone');

  const dpFlags = ['--dp-epsilon', '--dp-delta', '--dp-clip'];
  const dpGiven = dpFlags.filter((f) => given.has(f));
  let dp: DpOptions | null = null;
  if (dpGiven.length > 0) {
    if (dpGiven.length < 3) throw new UsageError(`the Gaussian noise needs all of ${dpFlags.join(', ')}; missing ${dpFlags.filter((f) => !given.has(f)).join(', ')}`);
    if (!strategies.includes('fedavg')) throw new UsageError('--dp-epsilon/--dp-delta/--dp-clip noise the batch-norm statistics FedAvg shares; FedBN shares none (they stay on each client), so with --fedbn alone there is nothing to noise');
    if (norm !== 'batch' && norm !== 'batch-renorm') throw new UsageError(`--dp-epsilon/--dp-delta/--dp-clip noise the running statistics of batch norm; --norm ${norm} keeps none (use --norm batch or batch-renorm)`);
    const epsilon = number('--dp-epsilon', raw('--dp-epsilon')!);
    if (!(epsilon > 0 && epsilon <= 1)) throw new UsageError(`--dp-epsilon must be in (0, 1] (the classical Gaussian mechanism's calibration, σ = C·sqrt(2·ln(1.25/δ))/ε, holds for ε ≤ 1), got ${raw('--dp-epsilon')}`);
    const delta = number('--dp-delta', raw('--dp-delta')!);
    if (!(delta > 0 && delta < 1)) throw new UsageError(`--dp-delta must be in (0, 1), got ${raw('--dp-delta')}`);
    dp = { epsilon, delta, clip: positive('--dp-clip', 1) };
  }

  const lr = positive('--lr', d.lr);
  const momentum = positive('--momentum', d.momentum, { allowZero: true, below: 1 });
  const json = raw('--json') ?? null;
  return {
    clients: int('--clients', d.clients, 1),
    strategies,
    localAffine,
    rounds: int('--rounds', d.rounds, 1),
    localSteps,
    localEpochs,
    dataset: choice('--dataset', FEDERATED_DATASETS, raw('--dataset') ?? d.dataset),
    model: choice('--model', ['small-cnn'] as const, raw('--model') ?? d.model),
    depth: int('--depth', d.depth, 1),
    width: int('--width', d.width, 1),
    norm,
    groups: int('--groups', d.groups, 1),
    batch,
    lr,
    momentum,
    shift: choice('--shift', SHIFTS, raw('--shift') ?? d.shift),
    trainPerClient,
    testPerClient: int('--test-per-client', d.testPerClient, 1),
    dp,
    seed: int('--seed', d.seed, 0),
    json,
    overwrite: given.has('--overwrite'),
    cpu: given.has('--cpu'),
  };
}
