// Which parts of a client's state federated averaging shares with the server and which stay on
// the client: every entry of a model is a normalization layer's statistics, a normalization
// layer's scale and shift, or anything else (convolutions, linear layers, embeddings).
import { shapeToString } from '@welford/core';
import { Module, type AnyModule, type StateDtype, type StateEntry } from '../module/module.ts';
import { BatchNormBase } from '../norm/batch_norm.ts';
import { BatchRenorm2d } from '../norm/batch_renorm.ts';
import { ConditionalBatchNorm2d } from '../norm/conditional_batch_norm.ts';
import { GroupNorm } from '../norm/group_norm.ts';
import { InstanceNormBase } from '../norm/instance_norm.ts';
import { LayerNorm } from '../norm/layer_norm.ts';

/** The averaging rules: FedAvg (McMahan et al. 2017) and FedBN (Li et al. 2021). */
export type FederatedStrategy = 'fedavg' | 'fedbn';

export const FEDERATED_STRATEGIES: readonly FederatedStrategy[] = ['fedavg', 'fedbn'];

/**
 * What an entry of the state is to federated averaging:
 * - 'norm-statistics': a buffer of a normalization layer (running mean, running variance,
 *   numBatchesTracked of batch norm, batch renorm, instance norm with running statistics);
 * - 'norm-affine': a parameter of a normalization layer (its weight γ and bias β; the per-class
 *   scales and shifts of ConditionalBatchNorm2d);
 * - 'other': every other parameter and buffer.
 */
export type StatePart = 'norm-statistics' | 'norm-affine' | 'other';

/** One parameter or buffer of a client's model, as the federation treats it. */
export interface FederatedEntry {
  /** The dotted name (`bn1.runningMean`). */
  readonly name: string;
  /** Its name in the module that owns it (`runningMean`). */
  readonly localName: string;
  readonly kind: 'parameter' | 'buffer';
  readonly dtype: StateDtype;
  readonly shape: readonly number[];
  readonly part: StatePart;
  /** True when the server averages it; false when it stays on each client. */
  readonly shared: boolean;
}

function isNormLayer(m: AnyModule): boolean {
  return m instanceof BatchNormBase || m instanceof BatchRenorm2d || m instanceof InstanceNormBase || m instanceof GroupNorm || m instanceof LayerNorm || m instanceof ConditionalBatchNorm2d;
}

/** Every module that is a normalization layer or lies inside one (ConditionalBatchNorm2d's bn and embed). */
function normModules(model: AnyModule): Set<AnyModule> {
  const inside = new Set<AnyModule>();
  for (const [, m] of model.namedModules()) {
    if (!isNormLayer(m)) continue;
    for (const d of m.modules()) inside.add(d);
  }
  return inside;
}

function partOf(entry: StateEntry, norms: Set<AnyModule>): StatePart {
  if (!norms.has(entry.owner)) return 'other';
  return entry.kind === 'buffer' ? 'norm-statistics' : 'norm-affine';
}

/**
 * Whether the server averages an entry of this part: FedAvg averages everything; FedBN keeps the
 * normalization statistics on each client, and with `localAffine` the normalization layers'
 * weight and bias too (Li et al.'s algorithm keeps whole batch-norm layers local: localAffine).
 */
export function isShared(strategy: FederatedStrategy, localAffine: boolean, part: StatePart): boolean {
  if (strategy === 'fedavg') return true;
  if (part === 'norm-statistics') return false;
  return !(part === 'norm-affine' && localAffine);
}

/** The parameters and persistent buffers of `model`, each with its part and whether it is shared. */
export function federatedEntries(model: AnyModule, strategy: FederatedStrategy, localAffine: boolean): FederatedEntry[] {
  const norms = normModules(model);
  return model.stateEntries().map((e) => {
    const part = partOf(e, norms);
    return { name: e.name, localName: e.localName, kind: e.kind, dtype: e.dtype, shape: [...e.tensor.shape], part, shared: isShared(strategy, localAffine, part) };
  });
}

/** "conv1.weight (Conv2d parameter [8, 1, 3, 3])": an entry as messages name it. */
function describeEntry(e: StateEntry): string {
  return `${e.name} (${e.owner.typeName} ${e.kind} ${shapeToString(e.tensor.shape)})`;
}

/**
 * Throws unless every model is a distinct Module with the same state as the first: the same
 * names, in the same order, of the same kind, class, dtype and shape. The message names the
 * client and the first difference; `owner` starts it.
 */
export function checkSameArchitecture(owner: string, models: readonly AnyModule[]): void {
  models.forEach((m, k) => {
    if (!(m instanceof Module)) throw new Error(`${owner}: client ${k}'s model must be a Module, got ${String(m)}`);
    const first = models.indexOf(m);
    if (first !== k) throw new Error(`${owner}: clients ${first} and ${k} are the same model object; each client needs its own copy`);
  });
  const reference = models[0].stateEntries().map(describeEntry);
  for (let k = 1; k < models.length; k++) {
    const entries = models[k].stateEntries().map(describeEntry);
    const n = Math.max(reference.length, entries.length);
    for (let i = 0; i < n; i++) {
      if (reference[i] === entries[i]) continue;
      const theirs = entries[i] === undefined ? 'nothing' : entries[i];
      const ours = reference[i] === undefined ? 'nothing' : reference[i];
      throw new Error(`${owner}: client ${k}'s model differs from client 0's (every client needs the same architecture): state entry ${i} is ${ours} on client 0 and ${theirs} on client ${k}`);
    }
  }
  for (const [k, m] of models.entries()) {
    const disposed = m.stateEntries().find((e) => e.tensor.isDisposed);
    if (disposed) throw new Error(`${owner}: client ${k}'s ${disposed.name} was disposed`);
  }
}
