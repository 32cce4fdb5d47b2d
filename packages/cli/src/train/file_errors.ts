// Node: what went wrong with a file, in words for a message that names the path itself.

/**
 * The reason of a file system error without Node's trailing syscall and path ("EISDIR: illegal
 * operation on a directory, open '/runs/x/metrics.jsonl'" becomes "EISDIR: illegal operation on
 * a directory"), so that a message names the path once.
 */
export function fileErrorReason(e: unknown): string {
  const error = e as NodeJS.ErrnoException | null;
  if (error instanceof Error && typeof error.code === 'string') {
    if (error.code === 'EEXIST' && error.syscall === 'mkdir') return 'a file of that name is in the way (EEXIST)';
    return error.message.replace(/, \w+ '[^]*$/, '');
  }
  return e instanceof Error ? e.message : String(e);
}
