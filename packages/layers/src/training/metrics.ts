import { concat, eq, mul, noGrad, reshape, shapeToString, sum, tidy, unsqueeze, type Tensor } from '@welford/core';
import { argmax, indexAlong } from './argmax.ts';
import { DeviceSum, readTogether } from './device_sum.ts';

/**
 * A metric accumulated on the device across batches: `update` records work on the GPU and
 * reads nothing; `compute` reads the totals back once. Metrics own their accumulators:
 * `dispose()` (or `reset()`) frees them.
 */
export interface DeviceMetric<R> {
  /** The accumulators to read (see `readTogether`), in the order `fromValues` takes them. */
  readonly tensors: readonly (Tensor | null)[];
  /** The result from the accumulators' values (and what the metric counted on the host). */
  fromValues(values: readonly Float32Array[]): R;
  /** Reads the accumulators back (one readback) and returns the result. */
  compute(): Promise<R>;
  /** Starts over. */
  reset(): void;
  dispose(): void;
}

/** Checks logits [N, K, ...] against class-index targets [N, ...]. */
function checkTargets(metric: string, logits: Tensor, target: Tensor): void {
  if (logits.rank < 2) throw new Error(`${metric}: expected logits of shape [N, K, ...], got ${shapeToString(logits.shape)}`);
  const want = logits.shape.filter((_, i) => i !== 1);
  if (shapeToString(target.shape) !== shapeToString(want)) {
    throw new Error(`${metric}: expected targets of shape ${shapeToString(want)} for logits of shape ${shapeToString(logits.shape)}, got ${shapeToString(target.shape)}`);
  }
}

/**
 * Top-1 accuracy: the share of targets equal to the argmax of the logits over axis 1. Takes
 * classification logits [N, K] with labels [N], or per-pixel logits [N, K, H, W] with a mask
 * [N, H, W] (pixel accuracy). Ties go to the first class, as torch.argmax.
 */
export class Accuracy implements DeviceMetric<number> {
  private readonly correct = new DeviceSum('Accuracy');
  private total = 0;

  update(logits: Tensor, target: Tensor): void {
    checkTargets('Accuracy', logits, target);
    noGrad(() => tidy(() => this.correct.add(sum(eq(argmax(logits, 1), target)))));
    this.total += target.size;
  }

  /** Targets counted so far. */
  get count(): number {
    return this.total;
  }

  get tensors(): readonly (Tensor | null)[] {
    return [this.correct.tensor];
  }

  /** Correct / counted; NaN before any update. */
  fromValues([correct]: readonly Float32Array[]): number {
    return this.total === 0 ? NaN : correct[0] / this.total;
  }

  async compute(): Promise<number> {
    return this.fromValues(await readTogether(this.tensors));
  }

  reset(): void {
    this.correct.reset();
    this.total = 0;
  }

  dispose(): void {
    this.reset();
  }
}

/** What `MeanIoU` computes. */
export interface IoUResult {
  /** The mean of the per-class IoUs over the classes present in predictions or targets (NaN if none). */
  meanIoU: number;
  /** IoU = TP / (TP + FP + FN) per class; null for a class absent from both predictions and targets. */
  perClass: (number | null)[];
  /** Share of pixels whose predicted class is the target. */
  pixelAccuracy: number;
}

/**
 * Mean intersection over union for segmentation: logits [N, K, H, W] (any rank ≥ 2, classes on
 * axis 1) against a mask [N, H, W] of class ids in [0, K). Per class it accumulates on the device
 * the true positives, the predicted count and the target count, so FP + FN + TP = predicted +
 * target − TP. Classes absent from both are left out of the mean.
 */
export class MeanIoU implements DeviceMetric<IoUResult> {
  /** Rows: true positives, predicted, target; columns: classes. */
  private readonly counts = new DeviceSum('MeanIoU');
  private pixels = 0;
  private classes: number | null;

  /** `numClasses` is taken from the first logits when left out. */
  constructor(numClasses?: number) {
    if (numClasses !== undefined && (!Number.isInteger(numClasses) || numClasses < 1)) {
      throw new Error(`MeanIoU: numClasses must be a positive integer, got ${String(numClasses)}`);
    }
    this.classes = numClasses ?? null;
  }

  /** The number of classes (null until known). */
  get numClasses(): number | null {
    return this.classes;
  }

  update(logits: Tensor, mask: Tensor): void {
    checkTargets('MeanIoU', logits, mask);
    const k = logits.shape[1];
    if (this.classes !== null && k !== this.classes) {
      throw new Error(`MeanIoU: expected logits with ${this.classes} classes on axis 1, got shape ${shapeToString(logits.shape)}`);
    }
    this.classes = k;
    noGrad(() =>
      tidy(() => {
        const ids = indexAlong(logits, 1, k);
        const predicted = eq(unsqueeze(argmax(logits, 1), 1), ids);
        const target = eq(unsqueeze(mask, 1), ids);
        const axes = logits.shape.map((_, i) => i).filter((i) => i !== 1);
        const rows = [sum(mul(predicted, target), axes), sum(predicted, axes), sum(target, axes)];
        this.counts.add(concat(rows.map((r) => reshape(r, [1, k])), 0));
      }),
    );
    this.pixels += mask.size;
  }

  get tensors(): readonly (Tensor | null)[] {
    return [this.counts.tensor];
  }

  fromValues([counts]: readonly Float32Array[]): IoUResult {
    const k = this.classes ?? 0;
    if (this.pixels === 0) return { meanIoU: NaN, perClass: new Array<null>(k).fill(null), pixelAccuracy: NaN };
    const perClass: (number | null)[] = [];
    let tpAll = 0;
    for (let c = 0; c < k; c++) {
      const tp = counts[c];
      const union = counts[k + c] + counts[2 * k + c] - tp;
      tpAll += tp;
      perClass.push(union === 0 ? null : tp / union);
    }
    const present = perClass.filter((v): v is number => v !== null);
    const meanIoU = present.length === 0 ? NaN : present.reduce((a, b) => a + b, 0) / present.length;
    return { meanIoU, perClass, pixelAccuracy: tpAll / this.pixels };
  }

  async compute(): Promise<IoUResult> {
    return this.fromValues(await readTogether(this.tensors));
  }

  reset(): void {
    this.counts.reset();
    this.pixels = 0;
  }

  dispose(): void {
    this.reset();
  }
}

/** A weighted mean of scalar tensors (e.g. batch losses weighted by batch size), summed on the device. */
export class Mean implements DeviceMetric<number> {
  private readonly total = new DeviceSum('Mean');
  private weights = 0;

  /** Adds `weight · value` for a 0-d (or one-element) `value`. */
  update(value: Tensor, weight = 1): void {
    if (value.size !== 1) throw new Error(`Mean: expected a one-element value, got shape ${shapeToString(value.shape)}`);
    noGrad(() => tidy(() => this.total.add(reshape(mul(value, weight), []))));
    this.weights += weight;
  }

  /** The weights added so far. */
  get weight(): number {
    return this.weights;
  }

  get tensors(): readonly (Tensor | null)[] {
    return [this.total.tensor];
  }

  /** Σ weight·value / Σ weight; NaN before any update. */
  fromValues([total]: readonly Float32Array[]): number {
    return this.weights === 0 ? NaN : total[0] / this.weights;
  }

  async compute(): Promise<number> {
    return this.fromValues(await readTogether(this.tensors));
  }

  reset(): void {
    this.total.reset();
    this.weights = 0;
  }

  dispose(): void {
    this.reset();
  }
}
