// The flags of `welford train` and `welford eval`, parsed in the style of `welford conformance`:
// `--flag value` or `--flag=value`, booleans without a value, `--browser` with or without one,
// every mistake a UsageError.
import { BROWSER_NAMES, isBrowserName, type BrowserName } from '../browser/names.ts';
import { UsageError } from '../errors.ts';
import { flagNumber } from './flag_numbers.ts';
import type { TrainConfig } from './config.ts';

/** 'browser': a browser's name, optional (`--browser` alone is Chromium). */
type Kind = 'int' | 'number' | 'string' | 'list' | 'bool' | 'browser';

interface FlagSpec {
  flag: string;
  kind: Kind;
  /** Where the value goes: a field of the configuration or of the command's own options. */
  key: keyof TrainConfig | keyof RunOptions;
  /** Which commands take it. */
  commands: readonly ('train' | 'eval')[];
}

/** What a command takes besides the training configuration. */
export interface RunOptions {
  out: string | null;
  /** Replace the run already in --out (without it, such a folder is refused). */
  overwrite: boolean;
  /** The browser to train in (`--browser [chromium|firefox]`), or null: Node. */
  browser: BrowserName | null;
  cpu: boolean;
  gpu: boolean;
  checkpoint: string | null;
}

const both = ['train', 'eval'] as const;
const train = ['train'] as const;

/** Architecture and data flags go to both commands: eval can rebuild a model the checkpoint does not describe. */
const FLAGS: readonly FlagSpec[] = [
  { flag: '--model', kind: 'string', key: 'model', commands: both },
  { flag: '--depth', kind: 'int', key: 'depth', commands: both },
  { flag: '--width', kind: 'int', key: 'width', commands: both },
  { flag: '--norm', kind: 'string', key: 'norm', commands: both },
  { flag: '--groups', kind: 'int', key: 'groups', commands: both },
  { flag: '--dataset', kind: 'string', key: 'dataset', commands: both },
  { flag: '--image-size', kind: 'int', key: 'imageSize', commands: both },
  { flag: '--train-limit', kind: 'int', key: 'trainLimit', commands: train },
  { flag: '--test-limit', kind: 'int', key: 'testLimit', commands: both },
  { flag: '--batch', kind: 'int', key: 'batch', commands: train },
  { flag: '--epochs', kind: 'int', key: 'epochs', commands: train },
  { flag: '--steps', kind: 'int', key: 'steps', commands: train },
  { flag: '--optimizer', kind: 'string', key: 'optimizer', commands: train },
  { flag: '--lr', kind: 'number', key: 'lr', commands: train },
  { flag: '--momentum', kind: 'number', key: 'momentum', commands: train },
  { flag: '--weight-decay', kind: 'number', key: 'weightDecay', commands: train },
  { flag: '--schedule', kind: 'string', key: 'schedule', commands: train },
  { flag: '--warmup', kind: 'int', key: 'warmup', commands: train },
  { flag: '--clip', kind: 'number', key: 'clip', commands: train },
  { flag: '--augment', kind: 'list', key: 'augment', commands: train },
  { flag: '--seed', kind: 'int', key: 'seed', commands: train },
  { flag: '--stats-every', kind: 'int', key: 'statsEvery', commands: train },
  { flag: '--log-every', kind: 'int', key: 'logEvery', commands: train },
  { flag: '--replicas', kind: 'int', key: 'replicas', commands: train },
  { flag: '--sync-bn', kind: 'bool', key: 'syncBn', commands: train },
  { flag: '--out', kind: 'string', key: 'out', commands: train },
  { flag: '--overwrite', kind: 'bool', key: 'overwrite', commands: train },
  { flag: '--browser', kind: 'browser', key: 'browser', commands: train },
  { flag: '--gpu', kind: 'bool', key: 'gpu', commands: train },
  { flag: '--cpu', kind: 'bool', key: 'cpu', commands: both },
  { flag: '--checkpoint', kind: 'string', key: 'checkpoint', commands: ['eval'] },
];

const RUN_KEYS = new Set<string>(['out', 'overwrite', 'browser', 'cpu', 'gpu', 'checkpoint']);

/** The flags a command takes, for messages. */
export function flagsOf(command: 'train' | 'eval'): string[] {
  return FLAGS.filter((f) => f.commands.includes(command)).map((f) => f.flag);
}

function parseValue(spec: FlagSpec, raw: string): unknown {
  if (spec.kind === 'string') return raw;
  if (spec.kind === 'list') return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const n = flagNumber(spec.flag, raw);
  if (spec.kind === 'int' && !Number.isInteger(n)) throw new UsageError(`${spec.flag} needs an integer, got "${raw}"`);
  return n;
}

/** The parsed command line: the configuration as given (defaults not filled in) and the run options. */
export interface ParsedArgs {
  given: Partial<TrainConfig>;
  run: RunOptions;
}

/** Parses the arguments of `welford train` or `welford eval`. */
export function parseArgs(command: 'train' | 'eval', args: readonly string[]): ParsedArgs {
  const given: Record<string, unknown> = {};
  const run: RunOptions = { out: null, overwrite: false, browser: null, cpu: false, gpu: false, checkpoint: null };
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}" (welford ${command} takes only flags: ${flagsOf(command).join(' ')})`);
    const eq = arg.indexOf('=');
    const [flag, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const spec = FLAGS.find((f) => f.flag === flag && f.commands.includes(command));
    if (!spec) {
      const other = FLAGS.find((f) => f.flag === flag);
      const hint = other ? ` (${flag} belongs to welford ${other.commands.join(' and ')})` : '';
      throw new UsageError(`unknown option ${flag} for welford ${command}${hint}; valid options: ${flagsOf(command).join(' ')}`);
    }
    if (seen.has(flag)) throw new UsageError(`${flag} given twice`);
    seen.add(flag);
    let value: unknown;
    if (spec.kind === 'bool') {
      if (inline !== undefined) throw new UsageError(`${flag} takes no value, got "${inline}"`);
      value = true;
    } else if (spec.kind === 'browser') {
      // The commands take no positional arguments, so a next argument that is no flag is the name.
      const raw = inline ?? (args[i + 1] !== undefined && !args[i + 1].startsWith('--') ? args[++i] : 'chromium');
      if (!isBrowserName(raw)) throw new UsageError(`${flag} takes ${BROWSER_NAMES.join(' or ')} (or nothing: chromium), got "${raw}"`);
      value = raw;
    } else {
      const raw = inline ?? args[++i];
      if (raw === undefined || raw === '' || (inline === undefined && raw.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
      value = parseValue(spec, raw);
    }
    if (RUN_KEYS.has(spec.key)) (run as unknown as Record<string, unknown>)[spec.key] = value;
    else given[spec.key] = value;
  }
  // A NormName is checked later against the list; here only the spelling PyTorch users type too.
  if (given.norm === 'batchrenorm') given.norm = 'batch-renorm';
  return { given: given as Partial<TrainConfig>, run };
}
