import type { Backend, Storage } from '../backend/backend.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { sizeOf, type Shape } from '../util/shape.ts';
import { getOp } from './registry.ts';

/** Allocates the output of op `name` and records the op's work on the backend. */
export function computeOp<A>(name: string, inputs: readonly Tensor[], attrs: A, target: Backend, shape: Shape): Storage {
  const def = getOp<A>(name);
  const storages = inputs.map((t) => t.storageFor(name));
  const storage = target.alloc(sizeOf(shape), { op: name, shape });
  try {
    if (storage.size > 0) {
      const args = inputs.map((t, i) => ({ shape: t.shape, storage: storages[i] }));
      target.execute(def, args, { shape, storage }, attrs);
    }
  } catch (e) {
    // A kernel that rejects its input leaves no half-made output behind.
    target.free(storage);
    throw e;
  }
  return storage;
}
