// The guided start: a line beside the Train button that says what to do first, shown until the
// first training step (and again after Reset, which starts a new model at step 0). It reads the
// page state once per animation frame, so it needs no hook in the controller.

/** What the line needs of the page state (window.playgroundState). */
interface GuideState {
  phase: string;
  run: string;
  step: number;
  queuedStart?: boolean;
}

let started = false;

/** Whether the line is shown for `s`: before the first step, while no training runs or is queued. */
export function guideShown(s: GuideState | undefined): boolean {
  if (!s) return true;
  if (s.phase === 'no-webgpu' || s.phase === 'lost' || s.phase === 'error') return false;
  return s.step === 0 && s.run !== 'running' && s.run !== 'stepping' && !s.queuedStart;
}

/** Starts keeping #guide in step with the page state (once per page; later calls do nothing). */
export function startGuide(): void {
  if (started || typeof document === 'undefined') return;
  const el = document.getElementById('guide');
  if (!el) return;
  started = true;
  const tick = () => {
    const show = guideShown((window as unknown as { playgroundState?: GuideState }).playgroundState);
    if (el.hidden === show) el.hidden = !show;
    requestAnimationFrame(tick);
  };
  tick();
}
