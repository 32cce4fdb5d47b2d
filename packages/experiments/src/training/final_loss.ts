// The loss a training run ended at: the mean of its last readings rather than the last one alone,
// so that one noisy batch does not decide a comparison.
import type { TrainRun } from './train.ts';

/** Mean training loss over the last quarter of `run`'s loss readings (at least the last one); null without readings. */
export function finalLoss(run: TrainRun): number | null {
  const last = run.losses.slice(-Math.max(1, Math.floor(run.losses.length / 4)));
  return last.length === 0 ? null : last.reduce((a, r) => a + r.loss, 0) / last.length;
}
