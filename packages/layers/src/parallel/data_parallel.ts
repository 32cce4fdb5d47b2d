import {
  acquireDevice,
  concat,
  getBackend,
  InProcessCollective,
  mul,
  noGrad,
  setBackend,
  shapeToString,
  Tensor,
  toDevice,
  WebGpuBackend,
  type Backend,
  type Collective,
  type Optimizer,
  type ProcessGroup,
} from '@welford/core';
import type { AnyModule, Module } from '../module/module.ts';
import { BatchNormBase } from '../norm/batch_norm.ts';
import { BatchRenorm2d } from '../norm/batch_renorm.ts';
import { ConditionalBatchNorm2d } from '../norm/conditional_batch_norm.ts';
import type { LossFn, TrainingBatch } from '../training/batch.ts';
import { allReduceGradients } from './gradients.ts';
import { ReplicatedOptimizer } from './replicated_optimizer.ts';
import { shardOf, shardSizes } from './shards.ts';

export interface DataParallelOptions {
  /** How many replicas (devices) train the model (a positive integer). */
  replicas: number;
  /**
   * Batch-norm layers normalize with the statistics of the whole batch across the replicas
   * (synchronised batch norm; default false: each replica with its own shard's, as
   * data-parallel training without SyncBatchNorm does).
   */
  syncBatchNorm?: boolean;
  /**
   * The replicas' backends, one each (WebGPU, distinct devices). Default: the current backend
   * for replica 0 and a new WebGPU device (`acquireDevice`) for each other replica.
   */
  backends?: readonly Backend[];
  /** How the replicas communicate (default: an InProcessCollective). */
  collective?: Collective;
}

/** What one data-parallel step gives back. */
export interface DataParallelStep {
  /** The whole batch's output, gathered on replica 0's device in batch order (no gradient). */
  output: Tensor;
  /** The whole batch's mean loss (0-d, on replica 0's device). */
  loss: Tensor;
}

/**
 * A model trained data-parallel on several replicas, each on its own device (PyTorch's
 * DistributedDataParallel, in one process): every replica holds the same weights, takes a
 * contiguous shard of each batch, and computes its share of the batch's mean loss; the
 * gradients are summed across replicas (one all-reduce per step over all of them), so every
 * replica applies the same update. With `syncBatchNorm` the batch-norm layers normalize with
 * the whole batch's statistics, and R replicas compute what one device computes with the whole
 * batch; without it each replica normalizes with its own shard's statistics and keeps its own
 * running statistics (inspect them with `replicaStatistics`; evaluation and checkpoints use
 * replica 0's).
 *
 * Recording never waits: each device holds its work until the values it needs from the other
 * replicas arrive, so a step is as synchronous as on one device.
 */
export class DataParallel<M extends Module<[Tensor], Tensor> = Module<[Tensor], Tensor>> {
  private constructor(
    readonly replicas: readonly M[],
    readonly backends: readonly Backend[],
    readonly groups: readonly ProcessGroup[],
    readonly syncBatchNorm: boolean,
  ) {}

  /**
   * Builds the replicas: `build` runs once per replica with that replica's backend current, then
   * replica 0's parameters and buffers are copied to the others.
   */
  static async create<M extends Module<[Tensor], Tensor>>(build: () => M, options: DataParallelOptions): Promise<DataParallel<M>> {
    const { replicas: count, syncBatchNorm = false } = options;
    if (!Number.isInteger(count) || count < 1) throw new Error(`DataParallel: replicas must be a positive integer, got ${String(count)}`);
    if (typeof syncBatchNorm !== 'boolean') throw new Error(`DataParallel: syncBatchNorm must be a boolean, got ${String(syncBatchNorm)}`);
    const collective = options.collective ?? new InProcessCollective(count);
    if (collective.size !== count) throw new Error(`DataParallel: the collective joins ${collective.size} ranks, expected ${count} (one per replica)`);
    const backends = options.backends ? [...options.backends] : await defaultBackends(count);
    checkBackends(backends, count);
    const previous = getBackend();
    const models: M[] = [];
    try {
      for (const backend of backends) {
        setBackend(backend);
        models.push(build());
      }
    } finally {
      setBackend(previous);
    }
    const state = models[0].stateDict();
    for (const m of models.slice(1)) await m.loadStateDict(state);
    const groups = models.map((_, rank) => ({ collective, rank }));
    if (syncBatchNorm) models.forEach((m, rank) => convertSyncBatchNorm(m, groups[rank]));
    return new DataParallel(models, backends, groups, syncBatchNorm);
  }

  /** The number of replicas. */
  get size(): number {
    return this.replicas.length;
  }

  /** Replica 0 (what evaluation and checkpoints use). */
  get module(): M {
    return this.replicas[0];
  }

  /** One optimizer per replica, made by `make` from that replica's parameters, driven as one. */
  optimizer(make: (params: Tensor[]) => Optimizer): ReplicatedOptimizer {
    return new ReplicatedOptimizer(this.replicas.map((m) => make(m.parameters())));
  }

  train(mode = true): this {
    for (const m of this.replicas) m.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const m of this.replicas) m.zeroGrad();
  }

  /** Submits every replica's recorded work. */
  flush(): void {
    for (const b of this.backends) b.flush();
  }

  /**
   * Forward and backward of one batch: the batch (any device) is split into contiguous shards,
   * replica r computes its shard's loss weighted by its share of the batch, and the gradients
   * (and losses) are summed across replicas. `loss` must average over the samples it is given,
   * as cross-entropy does. Gradients are added to what the parameters hold (zero them first).
   */
  forwardBackward<B extends TrainingBatch>(batch: B, loss: LossFn<B>): DataParallelStep {
    const n = batch.x.rank > 0 ? batch.x.shape[0] : 0;
    if (n < this.size) {
      throw new Error(`DataParallel: a batch of ${n} samples (x of shape ${shapeToString(batch.x.shape)}) cannot be split across ${this.size} replicas; each needs at least one sample`);
    }
    const sizes = shardSizes(n, this.size);
    // Every shard is copied out before any replica records work that waits on the others:
    // a copy recorded after such work would wait for it, and it for the copy.
    let start = 0;
    const shards = sizes.map((size, r) => {
      const shard = shardOf(batch, n, start, size, this.backends[r]);
      start += size;
      return shard;
    });
    const outputs: Tensor[] = [];
    const losses: Tensor[] = [];
    const counts = this.replicas.map(batchNormCounts);
    // Each device holds the step until every replica has recorded its part: a replica that
    // fails then leaves nothing of the step run anywhere (not even running statistics).
    const gates = this.backends.map((b) => b.deferWrite([]));
    try {
      this.replicas.forEach((model, r) => {
        const shard = shards[r];
        const output = model.call(shard.x);
        const part = mul(loss(output, shard), sizes[r] / n);
        if (part.size !== 1) throw new Error(`DataParallel: the loss must be a single value, got shape ${shapeToString(part.shape)}`);
        part.backward();
        outputs.push(output);
        losses.push(part);
      });
    } catch (e) {
      // Drop what the replicas recorded for this step (the exchanges they started fail with
      // the collective's abort instead of waiting for the failed replica); no gradient is kept,
      // since it would come from dropped work, and the batch counts go back.
      const error = e instanceof Error ? e : new Error(String(e));
      // The fence keeps what is recorded after this step out of what the aborts drop.
      for (const b of this.backends) b.fence();
      const aborted = new Error(`DataParallel: a replica failed during the step: ${error.message}`);
      for (const gate of gates) gate.abort(aborted, true);
      this.groups[0].collective.abort?.(aborted);
      this.zeroGrad();
      counts.forEach((layers) => layers.forEach(([bn, count]) => (bn.numBatchesTracked = count)));
      throw error;
    }
    for (const gate of gates) gate.write([]);
    return noGrad(() => {
      const total = this.replicas.map((model, r) => allReduceGradients(model, this.groups[r], losses[r]))[0];
      const gathered = outputs.map((o) => toDevice(o, this.backends[0]));
      const output = gathered.length === 1 ? gathered[0] : concat(gathered);
      return { output, loss: total };
    });
  }

  /**
   * Per batch-norm layer (by name), every replica's running mean and variance: equal on every
   * replica with synchronised batch norm, different without (each saw only its shards).
   */
  async replicaStatistics(): Promise<{ layer: string; runningMean: Float32Array[]; runningVar: Float32Array[] }[]> {
    const layers = this.replicas.map((m) => m.namedModules().filter((e): e is [string, BatchNormBase] => e[1] instanceof BatchNormBase));
    const out = [];
    for (let i = 0; i < layers[0].length; i++) {
      const [layer] = layers[0][i];
      const runningMean: Float32Array[] = [];
      const runningVar: Float32Array[] = [];
      for (const l of layers) {
        const bn = l[i][1];
        if (!bn.runningMean || !bn.runningVar) break;
        runningMean.push(await bn.runningMean.toArray());
        runningVar.push(await bn.runningVar.toArray());
      }
      if (runningMean.length > 0) out.push({ layer, runningMean, runningVar });
    }
    return out;
  }

  /** Frees every replica's tensors. */
  dispose(): void {
    for (const m of this.replicas) m.dispose();
  }
}

/**
 * Makes every batch-norm layer of `model` normalize with the statistics of all the replicas of
 * `group` (PyTorch's `convert_sync_batchnorm`, in place: the layers keep their names and state).
 * Returns how many layers it changed. Batch renormalization and conditional batch norm have no
 * synchronised form and are an error.
 */
export function convertSyncBatchNorm(model: AnyModule, group: ProcessGroup | null): number {
  let changed = 0;
  for (const [name, m] of model.namedModules()) {
    if (m instanceof BatchRenorm2d || m instanceof ConditionalBatchNorm2d) {
      throw new Error(`convertSyncBatchNorm: ${m.typeName} at '${name}' has no synchronised form (only BatchNorm1d/2d and SyncBatchNorm do); use group or batch norm, or train without synchronisation`);
    }
  }
  for (const m of model.modules()) {
    if (m instanceof BatchNormBase) {
      m.processGroup = group;
      changed++;
    }
  }
  return changed;
}

/** Every batch-norm layer with running statistics and its batch count. */
function batchNormCounts(model: AnyModule): [BatchNormBase, number][] {
  return model.modules().flatMap((m): [BatchNormBase, number][] => (m instanceof BatchNormBase && m.numBatchesTracked !== null ? [[m, m.numBatchesTracked]] : []));
}

async function defaultBackends(count: number): Promise<Backend[]> {
  const first = getBackend();
  const out: Backend[] = [first];
  for (let r = 1; r < count; r++) out.push(new WebGpuBackend(await acquireDevice()));
  return out;
}

function checkBackends(backends: Backend[], count: number): void {
  if (backends.length !== count) throw new Error(`DataParallel: expected ${count} backends (one per replica), got ${backends.length}`);
  if (new Set(backends).size !== count) throw new Error('DataParallel: every replica needs its own backend (device); the same backend was given twice');
  if (count > 1) {
    backends.forEach((b, r) => {
      if (b.kind !== 'webgpu') throw new Error(`DataParallel: replica ${r} is on ${b.description}; replicas exchange values through WebGPU queues, so every backend must be WebGPU`);
    });
  }
}
