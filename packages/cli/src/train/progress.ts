// The progress of a run as text: on a terminal one line rewritten after every step (a bar,
// the latest loss and accuracy, steps per second); elsewhere (CI, a pipe, a test) one plain
// line per logged step and per epoch. Only the printer writes; the formatting is pure.
import type { StepProgress } from './run_training.ts';
import type { EpochMetrics, MetricsRecord, StepMetrics, TestMetrics } from './step_log.ts';

const BAR_WIDTH = 24;

function num(v: number | null, digits: number): string {
  return v === null ? '-' : Number.isFinite(v) ? v.toFixed(digits) : String(v);
}

/** "epoch 1/2  step 120/500 [#####.....]  loss 0.4321  acc 0.871  12.3 steps/s" */
export function progressLine(p: StepProgress): string {
  const done = Math.min(BAR_WIDTH, Math.round((p.step / p.totalSteps) * BAR_WIDTH));
  const bar = `[${'#'.repeat(done)}${'.'.repeat(BAR_WIDTH - done)}]`;
  return `epoch ${p.epoch + 1}/${p.epochs}  step ${p.step}/${p.totalSteps} ${bar}  loss ${num(p.loss, 4)}  acc ${num(p.accuracy, 3)}  ${num(p.stepsPerSecond, 1)} steps/s`;
}

/** "step 20/100 (epoch 1/1)  loss 2.1234  acc 0.281  lr 0.05  3.1 steps/s" */
export function stepLine(r: StepMetrics, totalSteps: number, epochs: number): string {
  return `step ${r.step}/${totalSteps} (epoch ${r.epoch + 1}/${epochs})  loss ${num(r.loss, 4)}  acc ${num(r.accuracy, 3)}  lr ${Number(r.lr.toPrecision(4))}  ${num(r.stepsPerSecond, 1)} steps/s`;
}

/** "loss 0.3215  accuracy 0.9012 (1806/2004)" and, for masks, "  mIoU 0.612". */
export function testSummary(t: TestMetrics): string {
  const miou = t.miou !== undefined ? `  mIoU ${num(t.miou, 4)}` : '';
  return `loss ${num(t.loss, 4)}  accuracy ${num(t.accuracy, 4)} (${t.correct}/${t.total})${miou}`;
}

/** "epoch 1/1 (50 steps): train loss 1.2345 acc 0.610 | test loss ... (2004 samples)" */
export function epochLine(r: EpochMetrics, epochs: number): string {
  return `epoch ${r.epoch + 1}/${epochs} (${r.steps} steps): train loss ${num(r.train.loss, 4)} acc ${num(r.train.accuracy, 3)} | test ${testSummary(r.test)} on ${r.test.samples} samples`;
}

/** Where the printer writes: process.stdout, or anything like it. */
export interface TextOut {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** Prints a run's progress to `out` as the module comment describes. */
export class ProgressPrinter {
  private barShown = false;
  private totalSteps = 0;
  private epochs = 0;

  constructor(private readonly out: TextOut) {}

  step(p: StepProgress): void {
    this.totalSteps = p.totalSteps;
    this.epochs = p.epochs;
    if (!this.out.isTTY) return;
    this.out.write(`\r${progressLine(p)}\x1b[K`);
    this.barShown = true;
  }

  metrics(r: MetricsRecord): void {
    if (r.kind === 'epoch') this.line(epochLine(r, this.epochs));
    else if (!this.out.isTTY) this.line(stepLine(r, this.totalSteps, this.epochs));
  }

  /** A line that stays (the bar, if shown, is cleared first and redrawn at the next step). */
  line(text: string): void {
    if (this.barShown) this.out.write('\r\x1b[K');
    this.barShown = false;
    this.out.write(`${text}\n`);
  }

  /** Leaves the terminal on a fresh line. */
  end(): void {
    if (this.barShown) this.out.write('\n');
    this.barShown = false;
  }
}
