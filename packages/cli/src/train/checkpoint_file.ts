// Reading a checkpoint that `welford train` wrote, for the commands that use one (eval, adapt):
// its bytes, the configuration stored with it, and its weights loaded into a rebuilt model.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadSafetensors, parseSafetensors, type Module } from '@welford/layers';
import type { Tensor } from '@welford/core';
import { RunError, UsageError } from '../errors.ts';
import { describeConfig, type TrainConfig } from './config.ts';
import { CONFIG_METADATA_KEY, storedConfig } from './metadata.ts';

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new RunError(`cannot read ${what} ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The checkpoint's bytes and its safetensors metadata; a file that cannot be read or parsed is a RunError. */
export function readCheckpointFile(path: string): { bytes: Uint8Array; metadata: Record<string, string> } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new RunError(`cannot read the checkpoint ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : e instanceof Error ? e.message : String(e)}`);
  }
  try {
    return { bytes, metadata: parseSafetensors(bytes).metadata };
  } catch (e) {
    throw new RunError(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * The configuration stored with a checkpoint (metadata first, then the run.json beside it),
 * with `given` on top, or null when none is stored. A stored configuration the flags make
 * invalid is a UsageError; one that cannot be read, a RunError.
 */
export function checkpointConfig(path: string, metadata: Record<string, string>, given: Partial<TrainConfig>): TrainConfig | null {
  let stored: unknown = null;
  if (metadata[CONFIG_METADATA_KEY] !== undefined) {
    try {
      stored = JSON.parse(metadata[CONFIG_METADATA_KEY]);
    } catch (e) {
      throw new RunError(`${path}: the ${CONFIG_METADATA_KEY} metadata is not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
  } else {
    const runJson = join(dirname(path), 'run.json');
    if (existsSync(runJson)) stored = (readJson(runJson, 'the run description') as { config?: unknown }).config ?? null;
  }
  try {
    return storedConfig(stored, given);
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`${e.message} (the checkpoint's stored configuration with the flags given)`);
    throw new RunError(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Loads the checkpoint's weights into `model` (built from `config`); a mismatch says which model it expected. */
export async function loadCheckpointInto(model: Module<[Tensor], Tensor>, bytes: Uint8Array, path: string, config: TrainConfig): Promise<void> {
  try {
    await loadSafetensors(model, bytes);
  } catch (e) {
    throw new RunError(`${path} does not fit a ${describeConfig(config).split(' on ')[0]}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
