// `welford experiment`'s arguments.
import { UsageError } from '../errors.ts';
import { userPath } from '../train/outputs.ts';

export interface ExperimentArgs {
  /** Experiment names, or ['all']. */
  names: string[];
  list: boolean;
  quick: boolean;
  seed: number;
  out: string;
  plot: boolean;
  cpu: boolean;
}

export function parseExperimentArgs(args: readonly string[]): ExperimentArgs {
  const parsed: ExperimentArgs = { names: [], list: false, quick: false, seed: 1, out: userPath('runs/experiments'), plot: true, cpu: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--list') parsed.list = true;
    else if (flag === '--quick') parsed.quick = true;
    else if (flag === '--no-plot') parsed.plot = false;
    else if (flag === '--cpu') parsed.cpu = true;
    else if (flag === '--out') parsed.out = userPath(value());
    else if (flag === '--seed') {
      const v = value();
      const seed = Number(v);
      if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got "${v}"`);
      parsed.seed = seed;
    } else if (flag.startsWith('-')) throw new UsageError(`unknown option ${flag}`);
    else parsed.names.push(arg);
  }
  if (!parsed.list && parsed.names.length === 0) throw new UsageError('name an experiment (or all); --list shows them');
  return parsed;
}
