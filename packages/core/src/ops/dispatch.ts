import type { Backend } from '../backend/backend.ts';
import { isGradEnabled } from '../tensor/grad_mode.ts';
import { getBackend } from '../tensor/engine.ts';
import { Tensor } from '../tensor/tensor.ts';
import { sizeOf } from '../util/shape.ts';
import { computeOp } from './compute.ts';
import { DeferredOp } from './deferred_op.ts';
import type { OpDef } from './op_def.ts';
import { getOp } from './registry.ts';

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
  const shape = def.shape(inputs.map((t) => t.shape), attrs);
  const out = Tensor.fromStorage(shape, target, computeOp(name, inputs, attrs, target, shape));
  recordOp(name, def, inputs, attrs, out);
  return out;
}

/**
 * Like `runOp`, but the output's values are computed the first time anyone uses them (see
 * DeferredWork), so that a consumer can take the op's inputs instead and fuse the two (a
 * normalization followed by ReLU). Shapes and devices are checked now, at the call.
 */
export function runOpDeferred<A>(name: string, inputs: readonly Tensor[], attrs: A): Tensor {
  const def = getOp<A>(name);
  const target = commonBackend(name, inputs);
  const shape = def.shape(inputs.map((t) => t.shape), attrs);
  if (sizeOf(shape) === 0) return runOp(name, inputs, attrs);
  const out = Tensor.deferred(shape, target, new DeferredOp(name, inputs, attrs, target, shape));
  recordOp(name, def, inputs, attrs, out);
  return out;
}

/** Puts the op on the tape when gradients are wanted and an input requires them. */
function recordOp<A>(name: string, def: OpDef<A>, inputs: readonly Tensor[], attrs: A, out: Tensor): void {
  if (def.backward === null || !isGradEnabled() || !inputs.some((t) => t.requiresGrad)) return;
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
