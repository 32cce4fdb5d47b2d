import type { Backend } from '../backend/backend.ts';
import { defaultRandom, Random } from '../util/random.ts';
import { assertValidShape, shapeToString, sizeOf, type Shape } from '../util/shape.ts';
import { getBackend } from './engine.ts';
import { Tensor } from './tensor.ts';

export interface CreationOptions {
  backend?: Backend;
  requiresGrad?: boolean;
}

export interface RandomOptions extends CreationOptions {
  /** A seed for this call alone; without one the global generator (`manualSeed`) is used. */
  seed?: number;
}

/** A tensor holding `data` (row-major) with `shape` (default: one dimension). */
export function fromArray(data: ArrayLike<number>, shape: Shape = [data.length], options: CreationOptions = {}): Tensor {
  assertValidShape('fromArray', shape);
  if (sizeOf(shape) !== data.length) {
    throw new Error(`fromArray: shape ${shapeToString(shape)} holds ${sizeOf(shape)} values, got ${data.length}`);
  }
  const values = data instanceof Float32Array ? data : Float32Array.from(checkedNumbers(data));
  const backend = options.backend ?? getBackend();
  const t = Tensor.fromStorage(shape, backend, backend.alloc(data.length, { op: 'fromArray', shape }));
  try {
    backend.write(t.storageFor('fromArray'), values);
  } catch (e) {
    t.dispose();
    throw e;
  }
  t.requiresGrad = options.requiresGrad ?? false;
  return t;
}

/** `data` itself, after checking that every element is a number (a string or a nested array would become NaN). */
function checkedNumbers(data: ArrayLike<number>): ArrayLike<number> {
  if (ArrayBuffer.isView(data)) return data;
  for (let i = 0; i < data.length; i++) {
    const v: unknown = data[i];
    if (typeof v !== 'number') {
      const what = Array.isArray(v) ? 'an array (flatten nested arrays and give the shape)' : typeof v === 'string' ? `the string ${JSON.stringify(v)}` : String(v);
      throw new Error(`fromArray: element ${i} is ${what}; values must be numbers`);
    }
  }
  return data;
}

/** Uniform values in [low, high) from the seeded generator. */
export function rand(shape: Shape, options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const rng = options.seed === undefined ? defaultRandom() : new Random(options.seed);
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  assertValidShape('rand', shape);
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * rng.uniform();
  return fromArray(data, shape, options);
}

/** Normal values (mean 0, std 1 unless given) from the seeded generator. */
export function randn(shape: Shape, options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const rng = options.seed === undefined ? defaultRandom() : new Random(options.seed);
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  assertValidShape('randn', shape);
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = mean + std * rng.normal();
  return fromArray(data, shape, options);
}

/** `t`, marked as requiring grad when the options ask for it. */
export function withGrad(t: Tensor, options: CreationOptions): Tensor {
  t.requiresGrad = options.requiresGrad ?? false;
  return t;
}
