import type { Tensor } from '../tensor/tensor.ts';
import { bilinearBackwardProgram, bilinearProgram, nearestBackwardProgram, nearestProgram } from '../kernels/upsample2d.ts';
import {
  upsampleBilinear2dBackwardReference,
  upsampleBilinear2dReference,
  upsampleNearest2dBackwardReference,
  upsampleNearest2dReference,
} from '../reference/upsample2d.ts';
import { sameShape, shapeToString, type Shape } from '../util/shape.ts';
import { runOp } from './dispatch.ts';
import { assertNchw } from './pool2d.ts';
import { registerOp } from './registry.ts';

interface NearestAttrs {
  /** Integer factors [height, width]. */
  scale: readonly [number, number];
}

interface BilinearAttrs {
  /** Positive factors [height, width]; the output has ⌊size · scale⌋ rows and columns. */
  scale: readonly [number, number];
  alignCorners: boolean;
}

/** A backward op's attributes: the forward's, and the shape of the forward's input. */
type BackwardAttrs<A> = A & { inputShape: Shape };

/** A scale given once for both axes or as [height, width]. */
export type Scale2d = number | readonly [number, number];

function scalePair(op: string, value: Scale2d, integer: boolean): [number, number] {
  const both: readonly unknown[] = typeof value === 'number' ? [value, value] : Array.isArray(value) ? value : [];
  const valid = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0 && (!integer || Number.isInteger(v));
  if (both.length !== 2 || !both.every(valid)) {
    const what = integer ? 'a positive integer' : 'a positive number';
    throw new Error(`${op}: scale must be ${what} or a pair of them [height, width], got ${JSON.stringify(value)}`);
  }
  return [both[0] as number, both[1] as number];
}

function nearestShape(op: string, input: Shape, { scale }: NearestAttrs): number[] {
  assertNchw(op, input);
  if (!scale.every((s) => Number.isInteger(s) && s > 0)) throw new Error(`${op}: scale must be positive integers, got ${shapeToString(scale)}`);
  const [n, c, h, w] = input;
  return [n, c, h * scale[0], w * scale[1]];
}

function bilinearShape(op: string, input: Shape, { scale }: BilinearAttrs): number[] {
  assertNchw(op, input);
  if (!scale.every((s) => Number.isFinite(s) && s > 0)) throw new Error(`${op}: scale must be positive numbers, got ${shapeToString(scale)}`);
  const [n, c, h, w] = input;
  const outH = Math.floor(h * scale[0]);
  const outW = Math.floor(w * scale[1]);
  if (h < 1 || w < 1 || outH < 1 || outW < 1) {
    throw new Error(`${op}: Input and output sizes should be greater than 0, but got input (H: ${h}, W: ${w}) output (H: ${outH}, W: ${outW}) (input shape ${shapeToString(input)}, scale ${shapeToString(scale)})`);
  }
  return [n, c, outH, outW];
}

/** Checks that a backward op's gradient has the forward's output shape for its input. */
function checkGrad(op: string, grad: Shape, want: Shape, inputShape: Shape): void {
  if (!sameShape(grad, want)) throw new Error(`${op}: grad must have the upsampled shape ${shapeToString(want)} of input ${shapeToString(inputShape)}, got ${shapeToString(grad)}`);
}

registerOp<NearestAttrs>({
  name: 'upsampleNearest2d',
  shape: ([x], attrs) => nearestShape('upsampleNearest2d', x, attrs),
  cpu: ([x], out, { scale }) => upsampleNearest2dReference(x, out, scale),
  gpu: ([x], out, { scale }) => [nearestProgram(scale, x, out)],
  backward: ({ grad, inputs: [x], attrs }) => [runOp<BackwardAttrs<NearestAttrs>>('upsampleNearest2dBackward', [grad], { ...attrs, inputShape: x.shape })],
});

// Input: the gradient of the upsampled output; output: the gradient of x. Linear in its
// input, so its own gradient is the forward again.
registerOp<BackwardAttrs<NearestAttrs>>({
  name: 'upsampleNearest2dBackward',
  shape: ([grad], attrs) => {
    checkGrad('upsampleNearest2dBackward', grad, nearestShape('upsampleNearest2dBackward', attrs.inputShape, attrs), attrs.inputShape);
    return attrs.inputShape;
  },
  cpu: ([grad], dx, { scale }) => upsampleNearest2dBackwardReference(grad, dx, scale),
  gpu: ([grad], dx, { scale }) => [nearestBackwardProgram(scale, grad, dx)],
  backward: ({ grad, attrs: { scale } }) => [runOp<NearestAttrs>('upsampleNearest2d', [grad], { scale })],
});

registerOp<BilinearAttrs>({
  name: 'upsampleBilinear2d',
  shape: ([x], attrs) => bilinearShape('upsampleBilinear2d', x, attrs),
  cpu: ([x], out, { scale, alignCorners }) => upsampleBilinear2dReference(x, out, scale, alignCorners),
  gpu: ([x], out, { scale, alignCorners }) => [bilinearProgram(scale, alignCorners, x, out)],
  backward: ({ grad, inputs: [x], attrs }) => [runOp<BackwardAttrs<BilinearAttrs>>('upsampleBilinear2dBackward', [grad], { ...attrs, inputShape: x.shape })],
});

// Input: the gradient of the resampled output; output: the gradient of x. Linear in its
// input, so its own gradient is the forward again.
registerOp<BackwardAttrs<BilinearAttrs>>({
  name: 'upsampleBilinear2dBackward',
  shape: ([grad], attrs) => {
    checkGrad('upsampleBilinear2dBackward', grad, bilinearShape('upsampleBilinear2dBackward', attrs.inputShape, attrs), attrs.inputShape);
    return attrs.inputShape;
  },
  cpu: ([grad], dx, { scale, alignCorners }) => upsampleBilinear2dBackwardReference(grad, dx, scale, alignCorners),
  gpu: ([grad], dx, { scale, alignCorners }) => [bilinearBackwardProgram(scale, alignCorners, grad, dx)],
  backward: ({ grad, attrs: { scale, alignCorners } }) => [runOp<BilinearAttrs>('upsampleBilinear2d', [grad], { scale, alignCorners })],
});

/**
 * Nearest-neighbour upsampling of an NCHW input by integer factors (torch.nn.functional.interpolate
 * with mode 'nearest'): every value becomes a scaleH × scaleW block. `scale` is one integer
 * for both axes (default 2) or [height, width]. The gradient of an input sums its block's.
 */
export function upsampleNearest2d(input: Tensor, scale: Scale2d = 2): Tensor {
  return runOp<NearestAttrs>('upsampleNearest2d', [input], { scale: scalePair('upsampleNearest2d', scale, true) });
}

export interface UpsampleBilinear2dOptions {
  /** Factor for both axes, or [height, width] (default 2); the output has ⌊size · scale⌋ rows and columns. */
  scale?: Scale2d;
  /**
   * Align the centres of the corner pixels of input and output (default false: half-pixel
   * centres, as torch's align_corners=False).
   */
  alignCorners?: boolean;
}

/**
 * Bilinear resampling of an NCHW input (torch.nn.functional.interpolate with mode 'bilinear'
 * and a scale factor): output pixel o reads the input at (o + ½)/scale − ½, clamped at 0, or at
 * o·(in − 1)/(out − 1) with `alignCorners`. Scales below 1 downsample (without antialiasing,
 * as PyTorch's default). The gradient sends each output's gradient back to its four taps.
 */
export function upsampleBilinear2d(input: Tensor, { scale = 2, alignCorners = false }: UpsampleBilinear2dOptions = {}): Tensor {
  if (typeof alignCorners !== 'boolean') throw new Error(`upsampleBilinear2d: alignCorners must be a boolean, got ${String(alignCorners)}`);
  return runOp<BilinearAttrs>('upsampleBilinear2d', [input], { scale: scalePair('upsampleBilinear2d', scale, false), alignCorners });
}
