import { assign, sameShape, shapeToString, type Tensor } from '@welford/core';

/** Values on the host in row-major order, e.g. read from a checkpoint file. */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Values to load, by dotted name: tensors (any backend) or host arrays. */
export type StateDict = Record<string, Tensor | HostTensor>;

export interface LoadStateDictOptions {
  /** Missing and unexpected keys are an error (default true); otherwise they are only reported. */
  strict?: boolean;
}

export interface LoadResult {
  /** The module's keys the state did not hold. */
  missingKeys: string[];
  /** The state's keys the module does not have. */
  unexpectedKeys: string[];
}

/** What loading needs of a module's parameter or buffer (a StateEntry of module.ts). */
export interface LoadableEntry {
  readonly name: string;
  readonly tensor: Tensor;
  readonly kind: 'parameter' | 'buffer';
  readonly dtype: 'float32' | 'int64';
}

function isTensor(v: Tensor | HostTensor): v is Tensor {
  return (v as { isTensor?: boolean }).isTensor === true;
}

/**
 * Checks `state` against `entries`, reads back what must be read (counters, tensors on another
 * backend), then writes everything. Nothing is written unless every check passed.
 */
export async function loadStateInto<E extends LoadableEntry>(
  typeName: string,
  entries: readonly E[],
  state: StateDict,
  { strict = true }: LoadStateDictOptions,
  setCounter: (entry: E, value: number) => void,
): Promise<LoadResult> {
  if (state === null || typeof state !== 'object') throw new Error(`Error(s) in loading state dict for ${typeName}: expected an object of tensors, got ${String(state)}`);
  const known = new Set(entries.map((e) => e.name));
  const missingKeys = entries.filter((e) => !Object.hasOwn(state, e.name)).map((e) => e.name);
  const unexpectedKeys = Object.keys(state).filter((k) => !known.has(k));
  const problems: string[] = [];
  if (strict && missingKeys.length > 0) problems.push(`Missing key(s) in state dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}.`);
  if (strict && unexpectedKeys.length > 0) problems.push(`Unexpected key(s) in state dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}.`);

  const present = entries.filter((e) => Object.hasOwn(state, e.name));
  for (const e of present) {
    const value = state[e.name];
    if (e.tensor.isDisposed) problems.push(`${e.name}: the module's tensor was disposed.`);
    if (value === null || typeof value !== 'object' || !Array.isArray(value.shape)) {
      problems.push(`${e.name}: expected a tensor, got ${String(value)}.`);
      continue;
    }
    if (!sameShape(value.shape, e.tensor.shape)) {
      problems.push(`size mismatch for ${e.name}: copying a ${e.kind} with shape ${shapeToString(value.shape)} from the state dict, the shape in the current model is ${shapeToString(e.tensor.shape)}.`);
      continue;
    }
    if (isTensor(value)) {
      if (value.isDisposed) problems.push(`${e.name}: the given tensor was disposed.`);
    } else if (!(value.data instanceof Float32Array) || value.data.length !== e.tensor.size) {
      problems.push(`${e.name}: expected ${e.tensor.size} float32 values for shape ${shapeToString(value.shape)}, got ${value.data instanceof Float32Array ? value.data.length : String(value.data)}.`);
    }
  }
  if (problems.length > 0) throw new Error(`Error(s) in loading state dict for ${typeName}:\n\t${problems.join('\n\t')}`);

  // Read back what cannot be copied on the device before writing anything.
  const sources = new Map<E, Tensor | Float32Array>();
  for (const e of present) {
    const value = state[e.name];
    const sameDevice = isTensor(value) && !e.tensor.isDisposed && value.backend === e.tensor.backend;
    sources.set(e, isTensor(value) ? (sameDevice && e.dtype !== 'int64' ? value : await value.toArray()) : value.data);
  }
  for (const [e, source] of sources) {
    if (e.dtype !== 'int64') continue;
    const count = (source as Float32Array)[0];
    if (!Number.isInteger(count) || count < 0) problems.push(`${e.name}: expected a count (a non-negative integer), got ${count}.`);
  }
  if (problems.length > 0) throw new Error(`Error(s) in loading state dict for ${typeName}:\n\t${problems.join('\n\t')}`);

  for (const [e, source] of sources) {
    assign(e.tensor, source);
    if (e.dtype === 'int64') setCounter(e, (source as Float32Array)[0]);
  }
  return { missingKeys, unexpectedKeys };
}
