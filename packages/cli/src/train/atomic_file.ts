// Node: files written whole or not at all. A file goes to `<name>.<pid>.tmp` beside it, is
// flushed to the disk, renamed into place, and the folder is flushed too, so that after a crash
// or a `kill -9` the path holds the old version or the new one, never a part of either.
// Temporary files that a killed process left behind are recognised by the pid in their name.
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** `<name>.<pid>.tmp`: the temporary file of `writeAtomic`, and the pid that writes it. */
const TEMPORARY = /^(.+)\.(\d+)\.tmp$/;

/** The temporary file `writeAtomic(path, ...)` writes in this process. */
export function temporaryPath(path: string): string {
  return `${path}.${process.pid}.tmp`;
}

/** Writes `data` to `path` through a temporary file in the same folder, fsync and a rename. */
export function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = temporaryPath(path);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeFileSync(fd, data);
      // The bytes reach the disk before the name points at them.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  syncFolder(dirname(path));
}

/**
 * Flushes a folder's entries (the rename) to the disk. Some platforms cannot open or fsync a
 * folder (Windows: EISDIR or EPERM; some file systems: EINVAL); there the rename stands as it is.
 */
export function syncFolder(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (e) {
    if (isRefusedFolderSync(e)) return;
    throw e;
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    if (!isRefusedFolderSync(e)) throw e;
  } finally {
    closeSync(fd);
  }
}

function isRefusedFolderSync(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'EISDIR' || code === 'EINVAL' || code === 'EPERM';
}

/** Whether process `pid` is running (a process of another user counts: EPERM). */
function isLive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes from `dir` the temporary files of `writeAtomic` for the given file names whose writer
 * is no longer running (a run killed while writing); returns the names removed. Other files stay.
 */
export function removeStaleTemporaries(dir: string, names: readonly string[]): string[] {
  const removed: string[] = [];
  for (const entry of readdirSync(dir)) {
    const m = TEMPORARY.exec(entry);
    if (!m || !names.includes(m[1]) || isLive(Number(m[2]))) continue;
    rmSync(join(dir, entry), { force: true });
    removed.push(entry);
  }
  return removed;
}
