import { isGradEnabled } from '../tensor/grad_mode.ts';
import { getBackend } from '../tensor/engine.ts';
import { Tensor } from '../tensor/tensor.ts';
import { sizeOf } from '../util/shape.ts';
import { getOp } from './registry.ts';
import type { Backend } from '../backend/backend.ts';

/** The one backend all inputs live on; throws naming the op when they disagree. */
export function commonBackend(op: string, inputs: readonly Tensor[], fallback?: Backend): Backend {
  const first = inputs[0]?.backendFor(op) ?? fallback ?? getBackend();
  inputs.forEach((t, i) => {
    const b = t.backendFor(op);
    if (b !== first) {
      throw new Error(`${op}: all tensors must be on one device; input 0 is on ${first.description}, input ${i} (shape [${t.shape.join(', ')}]) is on ${b.description}`);
    }
  });
  return first;
}

/**
 * Runs a registered op: checks devices and shapes, allocates the output, records the work
 * on the backend and, when gradients are wanted, the op on the tape.
 */
export function runOp<A>(name: string, inputs: readonly Tensor[], attrs: A, backend?: Backend): Tensor {
  const def = getOp<A>(name);
  const target = commonBackend(name, inputs, backend);
  const storages = inputs.map((t) => t.storageFor(name));
  const shape = def.shape(inputs.map((t) => t.shape), attrs);
  const out = Tensor.fromStorage(shape, target, target.alloc(sizeOf(shape), { op: name, shape }));
  try {
    if (out.size > 0) {
      const args = inputs.map((t, i) => ({ shape: t.shape, storage: storages[i] }));
      target.execute(def, args, { shape: out.shape, storage: out.storageFor(name) }, attrs);
    }
  } catch (e) {
    // A kernel that rejects its input leaves no half-made output behind.
    out.dispose();
    throw e;
  }
  if (def.backward !== null && isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    const rule = def.backward;
    out.gradFn = {
      op: name,
      inputs,
      backward: (grad) => {
        if (!rule) throw new Error(`${name}: this op has no backward rule, so it cannot be differentiated (use noGrad() or detach() around it)`);
        return rule({ grad, inputs, output: out, attrs });
      },
    };
  }
  return out;
}
