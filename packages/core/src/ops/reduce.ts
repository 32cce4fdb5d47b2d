import type { Tensor } from '../tensor/tensor.ts';
import { div, eq, mul, sqrt, sub } from './elementwise.ts';
import { broadcastScaled, broadcastTo } from './layout.ts';
import { reducePrograms, type Reduction } from '../kernels/reduce.ts';
import { reductionGeometry } from '../kernels/reduction_plan.ts';
import { reduceReference } from '../reference/reduce.ts';
import { assertRankAtMost, normalizeAxes, shapeToString, sizeOf, type Shape } from '../util/shape.ts';
import type { BackwardContext } from './op_def.ts';
import { runOp } from './dispatch.ts';
import { registerOp } from './registry.ts';

/**
 * Attributes of the reduction ops: normalized, ascending, non-negative axes. `sum` is also
 * run by the broadcasting backward (`sumToShape`) with exactly these attributes.
 */
export interface ReduceAttrs {
  axes: number[];
  keepDims: boolean;
}

export interface VarianceAttrs extends ReduceAttrs {
  correction: number;
}

/** Axes that exist in a shape (a 0-d tensor accepts axis 0 and reduces nothing). */
function presentAxes(shape: Shape, axes: readonly number[]): number[] {
  return axes.filter((a) => a < shape.length);
}

/** Number of input elements reduced into each output. */
function reducedCount(shape: Shape, axes: readonly number[]): number {
  return sizeOf(presentAxes(shape, axes).map((a) => shape[a]));
}

/** The input's shape with the reduced axes set to 1: the output's shape with keepDims. */
function keptShape(shape: Shape, axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function outputShape(name: string, shape: Shape, attrs: ReduceAttrs): number[] {
  assertRankAtMost(name, shape);
  const axes = normalizeAxes(name, attrs.axes, shape.length);
  if (axes.some((a, i) => a !== attrs.axes[i])) {
    throw new Error(`${name}: axes must be given to the op normalized (non-negative, ascending), got [${attrs.axes.join(', ')}]; the public function normalizes them`);
  }
  if ((name === 'max' || name === 'min') && reducedCount(shape, axes) === 0) {
    throw new Error(`${name}: cannot reduce over no elements (input shape ${shapeToString(shape)}, axes [${axes.join(', ')}]); the ${name === 'max' ? 'maximum' : 'minimum'} of nothing is undefined`);
  }
  return attrs.keepDims ? keptShape(shape, axes) : shape.filter((_, i) => !axes.includes(i));
}

/** The gradient of the output, viewed with keepDims so it broadcasts against the input. */
function keptGrad(grad: Tensor, x: Tensor, axes: readonly number[]): Tensor {
  return grad.view(keptShape(x.shape, axes));
}

/** The output gradient copied to every input element that was reduced into it. */
function spread(grad: Tensor, x: Tensor, axes: readonly number[], scale = 1): Tensor {
  const g = keptGrad(grad, x, axes);
  if (reducedCount(x.shape, axes) === 1) return scale === 1 ? g : mul(g, scale);
  return scale === 1 ? broadcastTo(g, x.shape) : broadcastScaled(g, x.shape, scale);
}

type Grad<A> = (ctx: BackwardContext<A>, x: Tensor) => Tensor;

const gradients: { [K in Reduction]: Grad<K extends 'variance' ? VarianceAttrs : ReduceAttrs> } = {
  sum: ({ grad, attrs }, x) => spread(grad, x, attrs.axes),
  mean: ({ grad, attrs }, x) => spread(grad, x, attrs.axes, 1 / reducedCount(x.shape, attrs.axes)),
  // Ties share the gradient evenly (torch.amax/amin).
  max: ({ grad, output, attrs }, x) => tiedShare(grad, output, x, attrs.axes),
  min: ({ grad, output, attrs }, x) => tiedShare(grad, output, x, attrs.axes),
  // d var / dx_i = 2 (x_i − mean) / (n − correction)
  variance: ({ grad, attrs }, x) => {
    const n = reducedCount(x.shape, attrs.axes);
    const centred = sub(x, mean(x, attrs.axes, true));
    return mul(centred, mul(keptGrad(grad, x, attrs.axes), 2 / Math.max(n - attrs.correction, 0)));
  },
};

function tiedShare(grad: Tensor, output: Tensor, x: Tensor, axes: readonly number[]): Tensor {
  const extreme = keptGrad(output, x, axes);
  const mask = eq(x, extreme);
  const ties = sum(mask, [...axes], true);
  return mul(mask, div(keptGrad(grad, x, axes), ties));
}

function registerReduction<A extends ReduceAttrs>(name: Reduction, correctionOf: (attrs: A) => number): void {
  registerOp<A>({
    name,
    shape: ([x], attrs) => outputShape(name, x, attrs),
    cpu: ([x], out, attrs) => reduceReference(name, x, presentAxes(x.shape, attrs.axes), out, correctionOf(attrs)),
    gpu: ([x], out, attrs, ctx) => reducePrograms(name, x, out, reductionGeometry(x.shape, presentAxes(x.shape, attrs.axes)), correctionOf(attrs), ctx),
    backward: (ctx) => [(gradients[name] as Grad<A>)(ctx, ctx.inputs[0])],
  });
}

registerReduction<ReduceAttrs>('sum', () => 0);
registerReduction<ReduceAttrs>('mean', () => 0);
registerReduction<ReduceAttrs>('max', () => 0);
registerReduction<ReduceAttrs>('min', () => 0);
registerReduction<VarianceAttrs>('variance', (attrs) => attrs.correction);

function reduceAttrs(name: string, x: Tensor, axes: number | readonly number[] | undefined, keepDims: boolean): ReduceAttrs {
  if (typeof keepDims !== 'boolean') throw new Error(`${name}: keepDims must be a boolean, got ${String(keepDims)}`);
  return { axes: normalizeAxes(name, axes, x.rank), keepDims };
}

/**
 * Sum over `axes` (all axes when left out; negative axes count from the end), as torch.sum.
 * Without `keepDims` the reduced axes are removed (a full reduction gives a 0-d tensor);
 * with it they stay with size 1. An empty list of axes copies the input.
 */
export function sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return runOp('sum', [x], reduceAttrs('sum', x, axes, keepDims));
}

/** Mean over `axes` (all by default), as torch.mean; the mean of no elements is NaN. */
export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return runOp('mean', [x], reduceAttrs('mean', x, axes, keepDims));
}

/**
 * Largest value over `axes` (all by default), as torch.amax: NaN if any reduced value is
 * NaN, and the gradient is shared evenly between tied maxima.
 */
export function max(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return runOp('max', [x], reduceAttrs('max', x, axes, keepDims));
}

/** Smallest value over `axes` (all by default), as torch.amin (NaN propagates, ties share the gradient). */
export function min(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return runOp('min', [x], reduceAttrs('min', x, axes, keepDims));
}

export interface VarianceOptions {
  /**
   * Subtracted from the element count in the divisor, as torch.var: 1 (default) gives the
   * unbiased estimate, 0 the population variance.
   */
  correction?: number;
  keepDims?: boolean;
}

/**
 * Variance over `axes` (all by default): Σ (x − mean)² / max(n − correction, 0), as torch.var.
 * Computed in one pass with Welford/Chan merges, so a large mean costs no precision.
 */
export function variance(x: Tensor, axes?: number | readonly number[], { correction = 1, keepDims = false }: VarianceOptions = {}): Tensor {
  if (typeof correction !== 'number' || !Number.isFinite(correction)) {
    throw new Error(`variance: correction must be a finite number, got ${String(correction)}`);
  }
  return runOp<VarianceAttrs>('variance', [x], { ...reduceAttrs('variance', x, axes, keepDims), correction });
}

/** Standard deviation over `axes`: the square root of `variance` with the same options (torch.std). */
export function std(x: Tensor, axes?: number | readonly number[], options: VarianceOptions = {}): Tensor {
  return sqrt(variance(x, axes, options));
}
