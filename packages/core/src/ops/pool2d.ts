import type { Tensor } from '../tensor/tensor.ts';
import {
  avgPoolBackwardProgram,
  avgPoolProgram,
  maxPoolArgmaxProgram,
  maxPoolBackwardProgram,
  maxPoolProgram,
  type PoolWindow,
} from '../kernels/pool2d.ts';
import {
  avgPool2dBackwardReference,
  avgPool2dReference,
  maxPool2dArgmaxReference,
  maxPool2dBackwardReference,
  maxPool2dReference,
} from '../reference/pool2d.ts';
import { sameShape, shapeToString, type Shape } from '../util/shape.ts';
import { runOp } from './dispatch.ts';
import { mean } from './reduce.ts';
import { registerOp } from './registry.ts';

/** A size given once for both axes or as [height, width]. */
export type Size2d = number | readonly [number, number];

/** A `Size2d` as [height, width]; throws naming the op and the option unless both are integers. */
export function pair(op: string, option: string, value: Size2d): [number, number] {
  const both: readonly unknown[] = typeof value === 'number' ? [value, value] : Array.isArray(value) ? value : [];
  if (both.length !== 2 || !both.every((v) => Number.isInteger(v))) {
    throw new Error(`${op}: ${option} must be an integer or a pair of integers [height, width], got ${JSON.stringify(value)}`);
  }
  return [both[0] as number, both[1] as number];
}

/** Throws naming the op and the shape unless it is NCHW. */
export function assertNchw(op: string, shape: Shape): void {
  if (shape.length !== 4) throw new Error(`${op}: expected a 4-D input [N, C, H, W], got shape ${shapeToString(shape)}`);
}

interface AvgPoolAttrs extends PoolWindow {
  countIncludePad: boolean;
}

/** A backward op's attributes: the forward's, and the shape of the forward's input. */
type BackwardAttrs<A> = A & { inputShape: Shape };

/** The pooled shape [N, C, outH, outW] (floor mode); throws PyTorch's errors for bad windows. */
function pooledShape(op: string, input: Shape, w: PoolWindow): number[] {
  assertNchw(op, input);
  const [k, s, p] = [w.kernelSize, w.stride, w.padding];
  if (!(k[0] > 0 && k[1] > 0)) throw new Error(`${op}: kernel size should be greater than zero, but got kH: ${k[0]} kW: ${k[1]}`);
  if (!(s[0] > 0 && s[1] > 0)) throw new Error(`${op}: stride should be greater than zero, but got dH: ${s[0]} dW: ${s[1]}`);
  if (!(p[0] >= 0 && p[1] >= 0)) throw new Error(`${op}: pad must be non-negative, but got padding ${shapeToString(p)}`);
  if (p[0] > k[0] / 2 || p[1] > k[1] / 2) {
    const what = op.startsWith('max') ? 'effective kernel size' : 'kernel size';
    throw new Error(`${op}: pad should be at most half of ${what}, but got padding ${shapeToString(p)} and kernelSize ${shapeToString(k)}`);
  }
  const [n, c, h, wd] = input;
  const outH = Math.floor((h + 2 * p[0] - k[0]) / s[0]) + 1;
  const outW = Math.floor((wd + 2 * p[1] - k[1]) / s[1]) + 1;
  if (outH < 1 || outW < 1) {
    throw new Error(
      `${op}: Given input size: (${c}x${h}x${wd}). Calculated output size: (${c}x${Math.max(outH, 0)}x${Math.max(outW, 0)}). Output size is too small ` +
        `(input shape ${shapeToString(input)}, kernelSize ${shapeToString(k)}, stride ${shapeToString(s)}, padding ${shapeToString(p)})`,
    );
  }
  return [n, c, outH, outW];
}

/** Checks that a backward op's gradient (and argmax) have the pooled shape of its input. */
function checkPooled(op: string, given: readonly Shape[], names: readonly string[], inputShape: Shape, w: PoolWindow): void {
  const want = pooledShape(op, inputShape, w);
  given.forEach((shape, i) => {
    if (!sameShape(shape, want)) {
      throw new Error(`${op}: ${names[i]} must have the pooled shape ${shapeToString(want)} of input ${shapeToString(inputShape)}, got ${shapeToString(shape)}`);
    }
  });
}

registerOp<PoolWindow>({
  name: 'maxPool2d',
  shape: ([x], w) => pooledShape('maxPool2d', x, w),
  cpu: ([x], out, w) => maxPool2dReference(x, out, w),
  gpu: ([x], out, w) => [maxPoolProgram(w, x, out)],
  // The argmax is found again from the saved input, so the forward writes one output in one
  // dispatch and keeps nothing when no gradient is asked for.
  backward: ({ grad, inputs: [x], attrs }) => {
    const argmax = runOp<PoolWindow>('maxPool2dArgmax', [x], attrs);
    const dx = runOp<BackwardAttrs<PoolWindow>>('maxPool2dBackward', [grad, argmax], { ...attrs, inputShape: x.shape });
    // Only the backward, already recorded, reads the offsets.
    argmax.dispose();
    return [dx];
  },
});

// Each window's argmax as its window-local offset kh · kernelW + kw (exact in a float).
registerOp<PoolWindow>({
  name: 'maxPool2dArgmax',
  shape: ([x], w) => pooledShape('maxPool2dArgmax', x, w),
  cpu: ([x], argmax, w) => maxPool2dArgmaxReference(x, argmax, w),
  gpu: ([x], argmax, w) => [maxPoolArgmaxProgram(w, x, argmax)],
  backward: null,
});

// Inputs: the gradient of maxPool2d's output and the argmax offsets; output: the gradient of x.
registerOp<BackwardAttrs<PoolWindow>>({
  name: 'maxPool2dBackward',
  shape: ([grad, argmax], attrs) => {
    checkPooled('maxPool2dBackward', [grad, argmax], ['grad', 'argmax'], attrs.inputShape, attrs);
    return attrs.inputShape;
  },
  cpu: ([grad, argmax], dx, w) => maxPool2dBackwardReference(grad, argmax, dx, w),
  gpu: ([grad, argmax], dx, w) => [maxPoolBackwardProgram(w, grad, argmax, dx)],
});

registerOp<AvgPoolAttrs>({
  name: 'avgPool2d',
  shape: ([x], w) => pooledShape('avgPool2d', x, w),
  cpu: ([x], out, w) => avgPool2dReference(x, out, w, w.countIncludePad),
  gpu: ([x], out, w) => [avgPoolProgram(w, w.countIncludePad, x, out)],
  backward: ({ grad, inputs: [x], attrs }) => [runOp<BackwardAttrs<AvgPoolAttrs>>('avgPool2dBackward', [grad], { ...attrs, inputShape: x.shape })],
});

// Input: the gradient of avgPool2d's output; output: the gradient of x. Linear in its input,
// so its own gradient is the forward again.
registerOp<BackwardAttrs<AvgPoolAttrs>>({
  name: 'avgPool2dBackward',
  shape: ([grad], attrs) => {
    checkPooled('avgPool2dBackward', [grad], ['grad'], attrs.inputShape, attrs);
    return attrs.inputShape;
  },
  cpu: ([grad], dx, w) => avgPool2dBackwardReference(grad, dx, w, w.countIncludePad),
  gpu: ([grad], dx, w) => [avgPoolBackwardProgram(w, w.countIncludePad, grad, dx)],
  backward: ({ grad, attrs: { inputShape: _, ...forward } }) => [runOp<AvgPoolAttrs>('avgPool2d', [grad], forward)],
});

export interface MaxPool2dOptions {
  /** Window size, [height, width] or one number for both. */
  kernelSize: Size2d;
  /** Step between windows; defaults to the kernel size. */
  stride?: Size2d;
  /** Implicit −inf on each side; at most half the kernel size. */
  padding?: Size2d;
}

export interface AvgPool2dOptions {
  /** Window size, [height, width] or one number for both. */
  kernelSize: Size2d;
  /** Step between windows; defaults to the kernel size. */
  stride?: Size2d;
  /** Implicit zeros on each side; at most half the kernel size. */
  padding?: Size2d;
  /** Divide by the whole window, padding included (default), or only by the positions inside the input. */
  countIncludePad?: boolean;
}

function poolWindow(op: string, { kernelSize, stride, padding = 0 }: MaxPool2dOptions): PoolWindow {
  const k = pair(op, 'kernelSize', kernelSize);
  return { kernelSize: k, stride: stride === undefined ? k : pair(op, 'stride', stride), padding: pair(op, 'padding', padding) };
}

/**
 * 2-D max pooling of an NCHW input (torch.nn.functional.max_pool2d without dilation or ceil
 * mode): output size ⌊(H + 2·padding − kernelSize) / stride⌋ + 1 per axis, padding counts as −inf.
 * NaN propagates. The gradient goes to the first maximum of each window in row-major order
 * (the last NaN if there is one), as PyTorch's.
 */
export function maxPool2d(input: Tensor, options: MaxPool2dOptions): Tensor {
  return runOp<PoolWindow>('maxPool2d', [input], poolWindow('maxPool2d', options));
}

/**
 * 2-D average pooling of an NCHW input (torch.nn.functional.avg_pool2d without ceil mode):
 * padding counts as zeros, and `countIncludePad` (default true) decides whether padded
 * positions count in the divisor. The gradient spreads each output's gradient evenly over its window.
 */
export function avgPool2d(input: Tensor, options: AvgPool2dOptions): Tensor {
  const { countIncludePad = true } = options;
  if (typeof countIncludePad !== 'boolean') throw new Error(`avgPool2d: countIncludePad must be a boolean, got ${String(countIncludePad)}`);
  return runOp<AvgPoolAttrs>('avgPool2d', [input], { ...poolWindow('avgPool2d', options), countIncludePad });
}

/** The mean of each channel over its height and width: [N, C, H, W] → [N, C, 1, 1] (adaptive_avg_pool2d to 1). */
export function globalAvgPool2d(input: Tensor): Tensor {
  assertNchw('globalAvgPool2d', input.shape);
  return mean(input, [2, 3], true);
}
