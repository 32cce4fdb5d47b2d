// What the page's replicas (each in a Web Worker) and its one-device reference both run: a small
// CNN with batch norm trained for a few SGD steps on seeded images. The replicas take contiguous
// shards of each batch, synchronise their batch norm and sum their gradients; the reference
// takes the whole batch on one device.
import { fromArray, init, manualSeed, mul, Random, SGD, tidy, WebGpuBackend, type Collective } from '@welford/core';
import { allReduceGradients, convertSyncBatchNorm, defaultLoss, shardSizes, smallCnn } from '@welford/layers';

export const STEPS = 3;
export const BATCH = 7;
export const REPLICAS = 2;

/** Batch `step`'s images [BATCH, 1, 8, 8] and labels, the same in every thread. */
function batchData(step: number): { x: Float32Array; y: Float32Array } {
  const rng = new Random(1000 + step);
  return {
    x: Float32Array.from({ length: BATCH * 64 }, () => rng.uniform() * 2 - 0.5),
    y: Float32Array.from({ length: BATCH }, () => Math.floor(rng.uniform() * 3)),
  };
}

export interface TrainingResult {
  backend: string;
  /** The whole batch's mean loss per step. */
  losses: number[];
  /** Every parameter and buffer after training, by name. */
  state: Record<string, number[]>;
}

/**
 * Trains on this thread's own WebGPU device. With a collective, as replica `rank` of its size
 * (synchronised batch norm, gradients summed); without one, on the whole batch.
 */
export async function train(collective: Collective | null, rank = 0): Promise<TrainingResult> {
  const backend = await init();
  if (!(backend instanceof WebGpuBackend)) throw new Error(`expected WebGPU, got ${backend.description}`);
  // Every replica starts from the same weights: the same seed before the same model.
  manualSeed(7);
  const model = smallCnn({ inChannels: 1, classes: 3, widths: [4, 6], norm: 'batch' });
  const group = collective ? { collective, rank } : null;
  if (group) convertSyncBatchNorm(model, group);
  const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const sizes = collective ? shardSizes(BATCH, collective.size) : [BATCH];
  const start = sizes.slice(0, rank).reduce((a, b) => a + b, 0);
  const n = sizes[rank];
  const losses: number[] = [];
  model.train();
  for (let step = 0; step < STEPS; step++) {
    const data = batchData(step);
    const loss = tidy(() => {
      optimizer.zeroGrad();
      const x = fromArray(data.x.subarray(start * 64, (start + n) * 64), [n, 1, 8, 8]);
      const y = fromArray(data.y.subarray(start, start + n), [n]);
      const part = mul(defaultLoss(model.call(x), { x, y }), n / BATCH);
      part.backward();
      const total = group ? allReduceGradients(model, group, part) : part;
      optimizer.step();
      return total.detach();
    });
    losses.push(await loss.item());
    loss.dispose();
  }
  const state: Record<string, number[]> = {};
  for (const [name, t] of Object.entries(model.stateDict())) state[name] = [...(await t.toArray())];
  return { backend: backend.description, losses, state };
}
