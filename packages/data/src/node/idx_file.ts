import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseIdx, type IdxArray } from '../idx.ts';

/** Reads an IDX file of unsigned bytes, gunzipping it first when it starts with gzip's magic bytes. */
export function readIdxFile(path: string): IdxArray {
  if (!existsSync(path)) throw new Error(`readIdxFile: ${path} does not exist`);
  let bytes: Uint8Array = readFileSync(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  return parseIdx(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

/** The first of `candidates` that exists, or null. */
export function firstExisting(candidates: readonly string[]): string | null {
  return candidates.find((p) => existsSync(p)) ?? null;
}
