import type { Tensor } from './tensor.ts';
import { popScope, pushScope, trackTensor, untrackTensor, type Scoped } from './scope_stack.ts';

/** Marks a tensor to survive the scopes that are open now. */
export function keep<T extends Tensor>(t: T): T {
  untrackTensor(t);
  return t;
}

/**
 * Scopes for automatic disposal. Every tensor created inside `tidy(fn)` is disposed when fn
 * returns, except what fn returns (any tensors inside arrays or plain objects) and tensors
 * marked with `keep`. Gradients assigned to leaf tensors and optimizer state are owned by
 * their tensor or optimizer and are never collected by a scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = pushScope();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    popScope();
    for (const t of scope) t.dispose();
    throw e;
  }
  popScope();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new Error('tidy: the function returned a Promise; tidy scopes are synchronous (await outside tidy, or use keep())');
  }
  const survivors = new Set<Scoped>();
  collectTensors(result, survivors);
  for (const t of scope) {
    if (survivors.has(t)) trackTensor(t);
    else t.dispose();
  }
  return result;
}

function collectTensors(value: unknown, into: Set<Scoped>): void {
  if (value === null || typeof value !== 'object') return;
  if ((value as { isTensor?: boolean }).isTensor === true) {
    into.add(value as Tensor);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collectTensors(v, into);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collectTensors(v, into);
}
