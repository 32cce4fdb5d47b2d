// A checkpoint remembers the run that wrote it: the configuration travels in the safetensors
// header's string metadata, so `welford eval` can rebuild the model from the file alone.
import { CONFIG_VERSION, resolveConfig, type TrainConfig } from './config.ts';

/** The metadata key holding the configuration (JSON). */
export const CONFIG_METADATA_KEY = 'welford.config';

/** String metadata for `saveSafetensors`: the configuration as JSON, with its version. */
export function checkpointMetadata(config: TrainConfig): Record<string, string> {
  return { [CONFIG_METADATA_KEY]: JSON.stringify({ version: CONFIG_VERSION, ...config }) };
}

/**
 * A stored configuration (checkpoint metadata or run.json's `config`) read back and checked as
 * a command line would be, with `overrides` (flags given now) on top; null when none is stored.
 */
export function storedConfig(stored: unknown, overrides: Partial<TrainConfig> = {}): TrainConfig | null {
  if (stored === null || typeof stored !== 'object') return null;
  const { version, ...fields } = stored as Record<string, unknown>;
  if (version !== CONFIG_VERSION && version !== 1) throw new Error(`the stored configuration has version ${String(version)}; this welford reads versions 1 to ${CONFIG_VERSION}`);
  const given: Partial<TrainConfig> = { ...(fields as Partial<TrainConfig>), ...overrides };
  // Version 1 stored no depth for small-cnn, whose three stages were then fixed.
  if (version === 1 && given.model === 'small-cnn' && given.depth == null) given.depth = 3;
  // Adam and AdamW store momentum 0, which a command line may not give them.
  if (given.optimizer !== 'sgd') delete given.momentum;
  return resolveConfig(given);
}
