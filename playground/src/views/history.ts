// Everything the charts draw, gathered as it arrives: loss and accuracy points from the training
// loop and the evaluations, and per-layer series derived from the probes' records.
import type { StatsRecord } from '@welford/stats';
import type { TestPoint, TrainPoint } from '../training/session.ts';
import { TimeTable } from './table.ts';

const mean = (xs: readonly number[]): number => xs.reduce((s, v) => s + v, 0) / Math.max(1, xs.length);

/** The chart series of one session. */
export class History {
  /** Series 'train' (step losses read every few steps) and 'test'. */
  readonly loss = new TimeTable();
  /** Series 'train', 'test' and, for segmentation, 'test mIoU'. */
  readonly accuracy = new TimeTable();
  /** Per layer: mean over channels of the batch mean / batch variance of what the layer normalizes. */
  readonly activationMean = new TimeTable();
  readonly activationVar = new TimeTable();
  /** Per ReLU module: fraction of its outputs that are zero (a norm's output is pre-ReLU and has none). */
  readonly dead = new TimeTable();
  /** Per weight (convolutions and the linear head): ‖∇w‖₂. */
  readonly gradNorm = new TimeTable();
  /** Per norm layer: mean γ ('name γ') and mean β ('name β'). */
  readonly affine = new TimeTable();
  /** Per norm layer: the covariate shift of its input since the previous read. */
  readonly shift = new TimeTable();
  /** The newest record (per-channel statistics and the histogram come from it). */
  latest: StatsRecord | null = null;
  /** Bumped with each record. */
  recordVersion = 0;

  constructor(
    /** Norm layers (their parameters are not weights of the gradient chart). */
    private readonly normLayers: readonly string[],
  ) {}

  addLoss(step: number, loss: number): void {
    this.loss.add(step, { train: loss });
  }

  addTrain(p: TrainPoint): void {
    this.accuracy.add(p.step, { train: p.accuracy });
  }

  addTest(p: TestPoint): void {
    this.loss.add(p.step, { test: p.loss });
    this.accuracy.add(p.step, { test: p.accuracy, ...(p.miou === null ? {} : { 'test mIoU': p.miou }) });
  }

  addRecord(r: StatsRecord): void {
    const means: Record<string, number> = {};
    const vars: Record<string, number> = {};
    const dead: Record<string, number> = {};
    const affine: Record<string, number> = {};
    const shift: Record<string, number | null> = {};
    for (const [name, l] of Object.entries(r.layers)) {
      // A norm layer's input is what it normalizes; a ReLU has only its output.
      const stats = l.input ?? l.output;
      means[name] = mean(stats.mean);
      vars[name] = mean(stats.var);
      if (l.activation) dead[name] = l.activation.deadFraction;
      if (l.weight) affine[`${name} γ`] = mean(l.weight);
      if (l.bias) affine[`${name} β`] = mean(l.bias);
      if (l.covariateShift !== undefined) shift[name] = l.covariateShift;
    }
    const grads: Record<string, number | null> = {};
    for (const [name, p] of Object.entries(r.params)) {
      const owner = name.slice(0, name.lastIndexOf('.'));
      if (name.endsWith('weight') && !this.normLayers.includes(owner)) grads[name] = p.gradNorm;
    }
    this.activationMean.add(r.step, means);
    this.activationVar.add(r.step, vars);
    this.dead.add(r.step, dead);
    this.gradNorm.add(r.step, grads);
    this.affine.add(r.step, affine);
    this.shift.add(r.step, shift);
    this.latest = r;
    this.recordVersion++;
  }
}
