// Everything the charts draw, gathered as it arrives: loss and accuracy points from the training
// loop and the evaluations, and per-layer series derived from the probes' records.
import type { StatsRecord } from '@welford/stats';
import type { TestPoint, TrainPoint } from '../training/session.ts';
import { TimeTable, type SavedTable } from './table.ts';

const mean = (xs: readonly number[]): number => xs.reduce((s, v) => s + v, 0) / Math.max(1, xs.length);

/** Rows per table kept in the browser with a run: enough for the charts, a few hundred kB at most. */
const SAVED_ROWS = 600;

/** The charts' series as IndexedDB keeps them with the run's weights, so a reload shows them again. */
export interface SavedHistory {
  tables: Record<string, SavedTable>;
  /** The newest probes record (the per-channel charts and the histogram draw it). */
  latest: StatsRecord | null;
}

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

  private tables(): Record<string, TimeTable> {
    const { loss, accuracy, activationMean, activationVar, dead, gradNorm, affine, shift } = this;
    return { loss, accuracy, activationMean, activationVar, dead, gradNorm, affine, shift };
  }

  /** Every series, thinned to a bounded size, for storage. */
  snapshot(): SavedHistory {
    const tables: Record<string, SavedTable> = {};
    for (const [name, t] of Object.entries(this.tables())) tables[name] = t.snapshot(SAVED_ROWS);
    return { tables, latest: this.latest };
  }

  /** Puts back what `snapshot` kept (a table it lacks stays empty). */
  restore(saved: SavedHistory): void {
    for (const [name, t] of Object.entries(this.tables())) {
      const table = saved.tables[name];
      if (table) t.restore(table);
    }
    this.latest = saved.latest;
    this.recordVersion++;
  }

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
