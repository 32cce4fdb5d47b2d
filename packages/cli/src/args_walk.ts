// Walking a command's arguments: "--flag value" and "--flag=value" alike, for the commands whose
// flags take any next argument as their value (conformance, experiment).
import { UsageError } from './errors.ts';

/**
 * Calls `handle` once per argument with its flag (the argument itself for positionals) and a
 * `value()` that takes the flag's value (inline after "=", else the next argument, which it
 * consumes) or throws "FLAG needs a value".
 */
export function walkArgs(args: readonly string[], handle: (flag: string, value: () => string, arg: string) => void): void {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    handle(flag, value, arg);
  }
}
