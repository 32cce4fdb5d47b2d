import type { HostArray } from '../backend/storage.ts';
import { sizeOf } from '../util/shape.ts';
import { float32Text } from '../util/float32_text.ts';

/** Calls fn with the flat positions of every line of `shape` along `axis`. */
function forEachLine(shape: readonly number[], axis: number, fn: (at: number[]) => void): void {
  const outer = sizeOf(shape.slice(0, axis));
  const len = shape[axis];
  const inner = sizeOf(shape.slice(axis + 1));
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      fn(Array.from({ length: len }, (_, j) => (o * len + j) * inner + i));
    }
  }
}

/** log Σ exp(v) over the line, shifted by its maximum so that large values do not overflow. */
function logSumExp(data: Float32Array, at: number[]): number {
  let max = -Infinity;
  for (const p of at) max = Math.max(max, data[p]);
  let s = 0;
  for (const p of at) s += Math.exp(data[p] - max);
  return max + Math.log(s);
}

/** softmax (or log-softmax when `log`) of x along axis. */
export function softmaxReference(x: HostArray, out: HostArray, axis: number, log: boolean): void {
  forEachLine(x.shape, axis, (at) => {
    const lse = logSumExp(x.data, at);
    for (const p of at) out.data[p] = log ? x.data[p] - lse : Math.exp(x.data[p] - lse);
  });
}

/**
 * Gradient of x from the forward output y and its gradient g: y ⊙ (g − Σ g⊙y) for softmax,
 * g − exp(y) ⊙ Σ g for log-softmax.
 */
export function softmaxBackwardReference(y: HostArray, g: HostArray, dx: HostArray, axis: number, log: boolean): void {
  forEachLine(y.shape, axis, (at) => {
    let s = 0;
    for (const p of at) s += log ? g.data[p] : g.data[p] * y.data[p];
    for (const p of at) dx.data[p] = log ? g.data[p] - Math.exp(y.data[p]) * s : y.data[p] * (g.data[p] - s);
  });
}

/** What is wrong with a target that is not a class index (the GPU's check says the same). */
export function classIndexMessage(op: string, value: number, classes: number): string {
  return `${op}: target ${float32Text(value)} is not a class index (expected an integer in [0, ${classes - 1}])`;
}

/** The class index a target value names; throws unless it is an integer in [0, classes). */
export function classIndex(op: string, value: number, classes: number): number {
  if (!Number.isInteger(value) || value < 0 || value >= classes) throw new Error(classIndexMessage(op, value, classes));
  return value;
}

/** Mean over rows of −log softmax(logits[r])[target[r]], for logits [rows, classes]. */
export function crossEntropyReference(logits: HostArray, targets: HostArray, out: HostArray): void {
  const [rows, classes] = logits.shape;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const at = Array.from({ length: classes }, (_, j) => r * classes + j);
    total += logSumExp(logits.data, at) - logits.data[r * classes + classIndex('crossEntropy', targets.data[r], classes)];
  }
  out.data[0] = total / rows;
}

/** dlogits = grad · (softmax(logits) − onehot(target)) / rows. */
export function crossEntropyBackwardReference(logits: HostArray, targets: HostArray, grad: HostArray, dlogits: HostArray): void {
  const [rows, classes] = logits.shape;
  const scale = grad.data[0] / rows;
  for (let r = 0; r < rows; r++) {
    const at = Array.from({ length: classes }, (_, j) => r * classes + j);
    const lse = logSumExp(logits.data, at);
    const hit = classIndex('crossEntropy', targets.data[r], classes);
    for (let j = 0; j < classes; j++) {
      dlogits.data[r * classes + j] = scale * (Math.exp(logits.data[r * classes + j] - lse) - (j === hit ? 1 : 0));
    }
  }
}
