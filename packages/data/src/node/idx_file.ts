import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseIdx, type IdxArray } from '../idx.ts';

/**
 * Reads an IDX file of unsigned bytes, gunzipping it first when it starts with gzip's magic bytes.
 * Every failure names the file: zlib's own errors ("unexpected end of file") do not.
 */
export function readIdxFile(path: string): IdxArray {
  if (!existsSync(path)) throw new Error(`readIdxFile: ${path} does not exist`);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`readIdxFile: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      throw new Error(`readIdxFile: ${path} is a truncated or corrupt gzip file (${reason}); download or install it again`);
    }
  }
  return parseIdx(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

/** The first of `candidates` that exists, or null. */
export function firstExisting(candidates: readonly string[]): string | null {
  return candidates.find((p) => existsSync(p)) ?? null;
}
