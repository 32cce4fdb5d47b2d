// Saving a module's state as a safetensors file in PyTorch's names, and loading one back.
import { shapeToString, sameShape } from '@welford/core';
import { missingDefaults, type AnyModule } from '../module/module.ts';
import type { HostTensor, LoadResult } from '../module/load_state.ts';
import { entriesByPyTorchName } from './names.ts';
import { parseSafetensors, serializeSafetensors, type SafetensorsEntry } from './safetensors.ts';

export interface SaveSafetensorsOptions {
  /** String metadata stored in the header, merged over `{ format: 'pt' }`. */
  metadata?: Record<string, string>;
}

export interface LoadSafetensorsOptions {
  /** Missing and unexpected keys are an error (default true); otherwise they are only reported. */
  strict?: boolean;
}

/**
 * Saves every parameter and persistent buffer of `module` as a safetensors file, under PyTorch's
 * names (`layer1.0.bn1.running_mean`): float32 tensors as F32, counters such as
 * `num_batches_tracked` as I64 of shape [], and metadata `{ format: 'pt' }` (what Hugging Face
 * writes for a PyTorch state dict) merged with `metadata`. Reads every tensor back from its device.
 */
export async function saveSafetensors(module: AnyModule, { metadata = {} }: SaveSafetensorsOptions = {}): Promise<Uint8Array> {
  const byName = entriesByPyTorchName(module.typeName, module.stateEntries());
  const tensors: SafetensorsEntry[] = [];
  for (const [name, e] of byName) {
    tensors.push({ name, dtype: e.dtype === 'int64' ? 'I64' : 'F32', shape: [...e.tensor.shape], data: await e.tensor.toArray() });
  }
  return serializeSafetensors(tensors, { format: 'pt', ...metadata });
}

function quoted(names: string[]): string {
  return names.map((k) => `"${k}"`).join(', ');
}

/**
 * Loads a safetensors file (PyTorch names, any dtype `parseSafetensors` reads) into `module`'s
 * parameters and buffers, in place. Strict by default: missing and unexpected keys are an error
 * listing them in the file's names; a shape mismatch is always an error. The whole file is parsed
 * and checked before anything is written, so a corrupt file or a failed load changes no value.
 * Returns the missing (module) and unexpected (file) keys, both in PyTorch's names.
 */
export async function loadSafetensors(module: AnyModule, bytes: Uint8Array, { strict = true }: LoadSafetensorsOptions = {}): Promise<LoadResult> {
  const { tensors } = parseSafetensors(bytes);
  const byName = entriesByPyTorchName(module.typeName, module.stateEntries());
  // Under strict loading, an entry the module can default (a norm's num_batches_tracked, as in
  // PyTorch) may be absent, and loads its default.
  const inFile = new Set([...byName].filter(([k]) => tensors.has(k)).map(([, e]) => e));
  const defaults = new Map(strict ? missingDefaults([...byName.values()], (e) => inFile.has(e)).map(([e, value]) => [e.name, value]) : []);
  const missingKeys = [...byName].filter(([k, e]) => !tensors.has(k) && !defaults.has(e.name)).map(([k]) => k);
  const unexpectedKeys = [...tensors.keys()].filter((k) => !byName.has(k));
  const problems: string[] = [];
  if (strict && missingKeys.length > 0) problems.push(`Missing key(s) in state dict: ${quoted(missingKeys)}.`);
  if (strict && unexpectedKeys.length > 0) problems.push(`Unexpected key(s) in state dict: ${quoted(unexpectedKeys)}.`);
  const state: Record<string, HostTensor> = Object.fromEntries(defaults);
  for (const [name, e] of byName) {
    const t = tensors.get(name);
    if (!t) continue;
    if (!sameShape(t.shape, e.tensor.shape)) {
      problems.push(`size mismatch for ${name}: copying a ${e.kind} with shape ${shapeToString(t.shape)} from the checkpoint, the shape in the current model is ${shapeToString(e.tensor.shape)}.`);
      continue;
    }
    if (e.dtype === 'int64' && !(Number.isInteger(t.data[0]) && t.data[0] >= 0)) {
      problems.push(`${name}: expected a count (a non-negative integer), got ${t.data[0]}.`);
    }
    state[e.name] = { shape: t.shape, data: t.data };
  }
  if (problems.length > 0) throw new Error(`Error(s) in loading state dict for ${module.typeName}:\n\t${problems.join('\n\t')}`);
  // Keys were checked above in the file's names; loadStateDict validates again, then writes.
  await module.loadStateDict(state, { strict: false });
  return { missingKeys, unexpectedKeys };
}
