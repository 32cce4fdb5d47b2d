// Every experiment, by its command-line name, in the order of the docs.
import type { Experiment } from './types.ts';
import { batchSize } from './experiments/batch_size.ts';
import { batchOfOne } from './experiments/batch_of_one.ts';
import { confidenceGap } from './experiments/confidence_gap.ts';
import { mixupBatchNorm } from './experiments/mixup_batch_norm.ts';
import { noisyStatistics } from './experiments/noisy_statistics.ts';
import { placementSaturation } from './experiments/placement_saturation.ts';
import { preactDepth } from './experiments/preact_depth.ts';
import { runningAverages } from './experiments/running_averages.ts';
import { trainTestMismatch } from './experiments/train_test_mismatch.ts';
import { weightDecay } from './experiments/weight_decay.ts';

/** The experiments, in the order the docs and the playground list them. */
export const EXPERIMENTS: readonly Experiment[] = [batchSize, batchOfOne, noisyStatistics, preactDepth, placementSaturation, weightDecay, runningAverages, trainTestMismatch, mixupBatchNorm, confidenceGap];

/** The experiment called `name`, or an error that lists the names there are. */
export function findExperiment(name: string): Experiment {
  const found = EXPERIMENTS.find((e) => e.name === name);
  if (!found) throw new Error(`no experiment named "${name}"; there are: ${EXPERIMENTS.map((e) => e.name).join(', ')}`);
  return found;
}
