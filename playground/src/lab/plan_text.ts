// What the lab says of a run before and while it runs: what it will show, how much work it is,
// and, once it has measured its own speed, about how long it has left.
import type { ExperimentPlan } from '@welford/experiments';

/** Seconds and steps before the time left is estimated (the first steps compile the kernels). */
const ESTIMATE_AFTER_S = 3;
const ESTIMATE_AFTER_FRACTION = 0.05;

/** The line shown at the start: what the run shows and what it will do. */
export function planLine(plan: ExperimentPlan, quick: boolean): string {
  const size = quick ? 'This quick run' : 'This full-size run';
  const work =
    plan.networks === 0
      ? 'measures without training, in a few seconds'
      : `trains ${plan.networks} network${plan.networks === 1 ? '' : 's'}, ${plan.steps} optimizer steps in all; the time left shows once it has measured its speed`;
  return `${size} ${work}. It shows: ${plan.shows}`;
}

/** "about 40 s left" from the steps done in `seconds`, or '' while too little is done to tell. */
export function timeLeft(plan: ExperimentPlan, steps: number, seconds: number): string {
  if (plan.steps === 0 || steps === 0 || seconds < ESTIMATE_AFTER_S || steps < plan.steps * ESTIMATE_AFTER_FRACTION) return '';
  const left = Math.max(0, (seconds * (plan.steps - steps)) / steps);
  return left < 60 ? `about ${Math.max(1, Math.round(left))} s left` : `about ${Math.round(left / 60)} min left`;
}

/** The running line: elapsed time, steps of the plan, and the time left where it can be told. */
export function progressLine(plan: ExperimentPlan, done: boolean, steps: number, samples: number, seconds: number): string {
  const parts = [done ? 'done' : 'running', `${seconds.toFixed(0)} s`];
  if (plan.steps > 0) parts.push(`${steps} of ${plan.steps} steps, ${samples} samples`);
  const left = done ? '' : timeLeft(plan, steps, seconds);
  if (left) parts.push(left);
  return parts.join(' · ');
}
