// Numbers from command-line flag values, for the commands that parse their own flags.
import { UsageError } from '../errors.ts';

/**
 * The number `raw` spells; a UsageError naming `flag` otherwise. Number() accepts "", " " and
 * hex, so the value must look like a decimal number; with `allowInfinity`, "inf" and
 * "infinity" (any case, optional +) are Infinity.
 */
export function flagNumber(flag: string, raw: string, allowInfinity = false): number {
  if (allowInfinity && /^\+?(inf|infinity)$/i.test(raw)) return Infinity;
  const n = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(raw) ? Number(raw) : NaN;
  if (Number.isNaN(n)) throw new UsageError(`${flag} needs a number, got "${raw}"`);
  return n;
}

/** An integer >= `min` from `raw` (see flagNumber); a UsageError naming `flag` otherwise. */
export function flagInteger(flag: string, raw: string, min: number, allowInfinity = false): number {
  const n = flagNumber(flag, raw, allowInfinity);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got ${raw}`);
  return n;
}
