import type { OpDef } from './op_def.ts';

// Attributes differ per op; the registry stores them type-erased and `getOp` restores the type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous registry
const registry = new Map<string, OpDef<any>>();

/** Registers an op under its name; registering a name twice throws. */
export function registerOp<A>(def: OpDef<A>): OpDef<A> {
  if (registry.has(def.name)) throw new Error(`registerOp: an op named '${def.name}' is already registered`);
  registry.set(def.name, def);
  return def;
}

export function getOp<A>(name: string): OpDef<A> {
  const def = registry.get(name);
  if (!def) throw new Error(`no op named '${name}' is registered`);
  return def as OpDef<A>;
}

export function registeredOps(): string[] {
  return [...registry.keys()].sort();
}
