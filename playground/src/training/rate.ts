/**
 * Steps per second over the last few seconds, from steps whose loss has come back from the
 * device: the host may record a few steps ahead of the GPU, so its own step times would
 * overstate the rate right after a start.
 */
export class StepRate {
  private readonly seen: [step: number, time: number][] = [];

  constructor(private readonly windowMs = 3000) {}

  /** Notes that `step` is done on the device now; returns the current rate. */
  tick(step: number, now = performance.now()): number {
    this.seen.push([step, now]);
    while (this.seen.length > 2 && now - this.seen[0][1] > this.windowMs) this.seen.shift();
    return this.rate;
  }

  /** Steps per second (0 until two readings were seen). */
  get rate(): number {
    const n = this.seen.length;
    if (n < 2) return 0;
    const [s0, t0] = this.seen[0];
    const [s1, t1] = this.seen[n - 1];
    return t1 > t0 ? ((s1 - s0) * 1000) / (t1 - t0) : 0;
  }

  /** Forgets the steps seen (after a pause, so idle time does not count). */
  reset(): void {
    this.seen.length = 0;
  }
}
