import type { Tensor } from '../tensor/tensor.ts';
import { DeferredOp } from './deferred_op.ts';

/**
 * Builds `consumer(producer(inputs))` in one op from the producer's inputs and attributes, or
 * returns null where it cannot (then the two run one after the other).
 */
export type EpilogueRule = (inputs: readonly Tensor[], attrs: unknown) => Tensor | null;

const rules = new Map<string, EpilogueRule>();

function key(producer: string, consumer: string): string {
  return `${producer} → ${consumer}`;
}

/** Declares that `consumer` applied to the deferred output of `producer` can run as `rule`. */
export function registerEpilogue(producer: string, consumer: string, rule: EpilogueRule): void {
  const k = key(producer, consumer);
  if (rules.has(k)) throw new Error(`registerEpilogue: ${k} is already registered`);
  rules.set(k, rule);
}

/**
 * `consumer(x)` as one fused op when x is the deferred output of an op with a rule for it:
 * the fused op reads x's inputs, and x itself stays deferred (computed only if something else
 * reads it). Returns null when no fusion applies. The fused result is differentiated through
 * x's inputs exactly as `consumer(x)` would be through x; a gradient x gets from elsewhere
 * still flows through x's own op.
 */
export function fuseEpilogue(consumer: string, x: Tensor): Tensor | null {
  const work = x.deferredWork;
  if (!(work instanceof DeferredOp) || !work.intact) return null;
  const rule = rules.get(key(work.op, consumer));
  if (!rule) return null;
  // The fused op is recorded for autograd iff consumer(x) would be: x is on the tape (then the
  // fused op takes the tape's inputs), or x needs no gradient (then it takes detached views).
  if ((x.gradFn !== null) !== x.requiresGrad) return null;
  const inputs = x.gradFn ? work.originals : work.inputs;
  if (inputs.some((t) => t.isDisposed)) return null;
  return rule(inputs, work.attrs);
}
