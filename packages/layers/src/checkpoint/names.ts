// welford names state camelCase (`layer1.0.bn1.runningMean`); PyTorch checkpoints use snake_case
// (`layer1.0.bn1.running_mean`). Files are written and read in PyTorch's names.
import type { StateEntry } from '../module/module.ts';

/**
 * The PyTorch name of a dotted welford state name: in each segment, every capital letter becomes
 * `_` plus its lower case (none is added at the start of a segment): `bn1.numBatchesTracked` →
 * `bn1.num_batches_tracked`, `weightOrig` → `weight_orig`, `weightU` → `weight_u`.
 */
export function toPyTorchName(name: string): string {
  return name
    .split('.')
    .map((segment) => segment.replace(/[A-Z]/g, (c, at: number) => (at > 0 ? '_' : '') + c.toLowerCase()))
    .join('.');
}

/**
 * The module's state entries by PyTorch name. Built from the module's own names (never by
 * guessing camelCase back from a file's keys); two entries that convert to the same PyTorch
 * name are an error, since a file could not tell them apart.
 */
export function entriesByPyTorchName(typeName: string, entries: readonly StateEntry[]): Map<string, StateEntry> {
  const byName = new Map<string, StateEntry>();
  for (const e of entries) {
    const pyName = toPyTorchName(e.name);
    const other = byName.get(pyName);
    if (other) throw new Error(`${typeName}: state entries "${other.name}" and "${e.name}" both have the PyTorch name "${pyName}"; rename one of them`);
    byName.set(pyName, e);
  }
  return byName;
}
