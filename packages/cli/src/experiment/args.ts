// `welford experiment`'s arguments.
import { walkArgs } from '../args_walk.ts';
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
  /** Replace the files an earlier run left in `out` (default false: refuse them). */
  overwrite: boolean;
}

export function parseExperimentArgs(args: readonly string[]): ExperimentArgs {
  const parsed: ExperimentArgs = { names: [], list: false, quick: false, seed: 1, out: userPath('runs/experiments'), plot: true, cpu: false, overwrite: false };
  walkArgs(args, (flag, value, arg) => {
    if (flag === '--list') parsed.list = true;
    else if (flag === '--quick') parsed.quick = true;
    else if (flag === '--no-plot') parsed.plot = false;
    else if (flag === '--cpu') parsed.cpu = true;
    else if (flag === '--overwrite') parsed.overwrite = true;
    else if (flag === '--out') parsed.out = userPath(value());
    else if (flag === '--seed') {
      const v = value();
      const seed = Number(v);
      if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got "${v}"`);
      parsed.seed = seed;
    } else if (flag.startsWith('-')) throw new UsageError(`unknown option ${flag}`);
    else parsed.names.push(arg);
  });
  if (!parsed.list && parsed.names.length === 0) throw new UsageError('name an experiment (or all); --list shows them');
  return parsed;
}
