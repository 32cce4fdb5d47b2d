// Which ReLU units a batch switches on: per layer, the fraction of outputs that are positive and
// the fraction of channels that are positive nowhere (at no position of any sample of the batch:
// a dead unit of a convolutional layer). Measured in training mode, where batch norm uses the
// batch's own statistics, and without leaving a trace in the model.
import { concat, keep, le, max, mean, noGrad, reshape, step, tidy, type Tensor } from '@welford/core';
import type { AnyModule, Module } from '@welford/layers';
import { saveRunningStatistics } from './running_statistics.ts';

/** What `reluActivity` measured, one entry per layer in the order given. */
export interface ReluActivity {
  /** Fraction of the layer's outputs that are > 0. */
  active: number[];
  /** Fraction of the layer's channels (axis 1) whose output is 0 everywhere on the batch. */
  deadChannels: number[];
  /** The layer's channels. */
  channels: number[];
}

/** The mean of the per-layer fractions (each layer counts once, whatever its size). */
export function layerMean(fractions: readonly number[]): number {
  return fractions.reduce((a, b) => a + b, 0) / fractions.length;
}

/**
 * Runs `model` on `x` in training mode without gradients and measures the outputs of `layers`
 * (ReLU modules: a norm's own output is pre-ReLU, the ReLU module after it is not). The running
 * statistics and the mode are put back afterwards, so the measurement does not change the model.
 */
export async function reluActivity(model: Module<[Tensor], Tensor>, layers: readonly AnyModule[], x: Tensor): Promise<ReluActivity> {
  const wasTraining = model.training;
  const hasBuffers = model.stateEntries({ parameters: false, buffers: true }).length > 0;
  const stored = hasBuffers ? await saveRunningStatistics(model) : null;
  const seen: (Tensor | null)[] = layers.map(() => null);
  const channels = layers.map(() => 0);
  const handles = layers.map((layer, i) =>
    layer.registerForwardHook((_module, _inputs, output) => {
      if (seen[i] !== null || !isTensor(output)) return;
      if (output.rank < 2) throw new Error(`reluActivity: layers[${i}] (${layer.typeName}) gave an output of rank ${output.rank}; expected [N, C, ...]`);
      channels[i] = output.shape[1];
      const perChannel = output.shape.map((_, axis) => axis).filter((axis) => axis !== 1);
      // [active fraction, dead-channel fraction], kept past the forward's scope.
      seen[i] = keep(concat([reshape(mean(step(output)), [1]), reshape(mean(le(max(output, perChannel), 0)), [1])]));
    }),
  );
  model.train();
  try {
    noGrad(() => tidy(() => void model.call(x)));
    const missing = seen.findIndex((t) => t === null);
    if (missing >= 0) throw new Error(`reluActivity: layers[${missing}] (${layers[missing].typeName}) did not run in the model's forward`);
    const values = await Promise.all(seen.map((t) => t!.toArray()));
    return { active: values.map((v) => v[0]), deadChannels: values.map((v) => v[1]), channels };
  } finally {
    for (const h of handles) h.remove();
    for (const t of seen) t?.dispose();
    if (!wasTraining) model.eval();
    await stored?.restore();
  }
}

function isTensor(value: unknown): value is Tensor {
  return typeof value === 'object' && value !== null && (value as { isTensor?: boolean }).isTensor === true;
}
