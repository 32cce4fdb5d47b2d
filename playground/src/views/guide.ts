// The guided start: a line beside the Train button that says what to do first, shown until the
// first training step (and again after Reset, which starts a new model at step 0). The page's
// frame loop calls `showGuide` with its state.
import type { PlaygroundState } from '../page_state.ts';

/** Whether the line is shown for `s`: before the first step, while no training runs or is queued. */
export function guideShown(s: PlaygroundState): boolean {
  if (s.phase === 'no-webgpu' || s.phase === 'lost' || s.phase === 'error') return false;
  return s.step === 0 && s.run !== 'running' && s.run !== 'stepping' && !s.queuedStart;
}

/** Shows or hides the guiding line `el` for `s` (touching the DOM only when that changes). */
export function showGuide(el: HTMLElement, s: PlaygroundState): void {
  const show = guideShown(s);
  if (el.hidden === show) el.hidden = !show;
}
