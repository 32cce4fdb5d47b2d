// No command replaces a file the user already has unless asked to (--overwrite). A command that
// would write over one stops before any work with a UsageError (exit 2, the usage shows the
// flag), saying what is there and the two ways on. Every command words it the same way.
import { existsSync } from 'node:fs';
import { UsageError } from './errors.ts';

/** "<found>; pass --overwrite to replace it, or choose another <flag>". */
export function overwriteRefusal(found: string, flag: string): UsageError {
  return new UsageError(`${found}; pass --overwrite to replace it, or choose another ${flag}`);
}

/**
 * Refuses (UsageError) when any of `paths`, the files a command is about to write, exists,
 * unless `overwrite`: "<what> already exists: <the existing paths>; pass --overwrite ...".
 */
export function checkNoEarlierFiles(what: string, paths: readonly string[], flag: string, overwrite: boolean): void {
  if (overwrite) return;
  const existing = [...new Set(paths)].filter((path) => existsSync(path));
  if (existing.length > 0) throw overwriteRefusal(`${what} already exists: ${existing.join(', ')}`, flag);
}
