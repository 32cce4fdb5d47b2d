// A copy of a model's running statistics on the host, to put back later: several
// re-estimations (few-shot, precise batch norm) can each start from what training stored, and
// a forward pass in training mode can leave the model as it found it.
import { readTogether, type AnyModule, type HostTensor } from '@welford/layers';

/** The running statistics as they were saved, and the way back to them. */
export interface SavedStatistics {
  /** Dotted names of the saved buffers (`bn1.runningMean`, `bn1.numBatchesTracked`, ...). */
  readonly names: readonly string[];
  /** Writes the saved values back into the model's buffers (in place; nothing is read back). */
  restore(): Promise<void>;
}

/**
 * Saves every persistent buffer of `model` (running means and variances, and counters such as
 * `numBatchesTracked`) in one readback.
 */
export async function saveRunningStatistics(model: AnyModule): Promise<SavedStatistics> {
  const entries = model.stateEntries({ parameters: false, buffers: true });
  if (entries.length === 0) throw new Error(`saveRunningStatistics: ${model.typeName} has no buffers (no running statistics) to save`);
  const values = await readTogether(entries.map((e) => e.tensor));
  const saved: Record<string, HostTensor> = {};
  entries.forEach((e, i) => {
    saved[e.name] = { shape: [...e.tensor.shape], data: Float32Array.from(values[i]) };
  });
  return {
    names: entries.map((e) => e.name),
    restore: async () => {
      await model.loadStateDict(saved, { strict: false });
    },
  };
}
