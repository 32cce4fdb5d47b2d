import type { Tensor } from '../tensor/tensor.ts';
import { conv2dInputGradProgram, conv2dProgram, conv2dWeightGradPrograms, type Conv2dGeometry } from '../kernels/conv2d.ts';
import { conv2dInputGradReference, conv2dReference, conv2dWeightGradReference } from '../reference/conv2d.ts';
import { shapeToString, type Shape } from '../util/shape.ts';
import { runOp } from './dispatch.ts';
import { slice } from './layout.ts';
import type { Size2d } from './pool2d.ts';
import { sum } from './reduce.ts';
import { registerOp } from './registry.ts';

export interface Conv2dOptions {
  /** [outChannels], added to every position of each output channel. */
  bias?: Tensor | null;
  /** Step between kernel placements (default 1). */
  stride?: Size2d;
  /** Zeros added on each side of the input (default 0). */
  padding?: Size2d;
  /** Spacing between kernel taps (default 1). */
  dilation?: Size2d;
  /** Channels split into this many independent groups (default 1; inChannels for depthwise). */
  groups?: number;
}

export interface ConvTranspose2dOptions extends Conv2dOptions {
  /** Extra rows and columns added to one side of the output (default 0), each below stride or dilation. */
  outputPadding?: Size2d;
}

type Pair = readonly [number, number];

interface ConvAttrs {
  stride: Pair;
  padding: Pair;
  dilation: Pair;
  groups: number;
}

interface ConvTransposeAttrs extends ConvAttrs {
  outputPadding: Pair;
}

interface WeightGradAttrs extends ConvAttrs {
  kernel: Pair;
}

const pairText = (p: Pair): string => `[${p[0]}, ${p[1]}]`;

function settings(a: ConvAttrs, extra = ''): string {
  return `stride ${pairText(a.stride)}, padding ${pairText(a.padding)}${extra}, dilation ${pairText(a.dilation)}`;
}

function size2d(op: string, name: string, value: Size2d, min: number): Pair {
  const p: Pair = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((v) => Number.isInteger(v) && v >= min)) {
    const what = min > 0 ? 'positive integer' : 'non-negative integer';
    throw new Error(`${op}: ${name} must be a ${what} or a pair [height, width] of them, got ${JSON.stringify(value)}`);
  }
  return [p[0], p[1]];
}

function convAttrs(op: string, { stride = 1, padding = 0, dilation = 1, groups = 1 }: Conv2dOptions): ConvAttrs {
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`${op}: groups must be a positive integer, got ${groups}`);
  return { stride: size2d(op, 'stride', stride, 1), padding: size2d(op, 'padding', padding, 0), dilation: size2d(op, 'dilation', dilation, 1), groups };
}

/** The checks conv2d and convTranspose2d share: ranks, kernel and bias shapes. */
function checkOperands(op: string, x: Shape, w: Shape, bias: Shape | undefined, biasChannels: (w: Shape, groups: number) => number, groups: number): void {
  if (x.length !== 4) throw new Error(`${op}: expected a 4-D input [N, C, H, W], got input of shape ${shapeToString(x)}`);
  if (w.length !== 4) throw new Error(`${op}: expected a 4-D weight, got weight of shape ${shapeToString(w)}`);
  if (w[2] < 1 || w[3] < 1) throw new Error(`${op}: the kernel must be at least 1 x 1, got weight of shape ${shapeToString(w)}`);
  if (bias) {
    const channels = biasChannels(w, groups);
    if (bias.length !== 1 || bias[0] !== channels) {
      throw new Error(`${op}: expected bias of shape [${channels}] (one per output channel), got bias of shape ${shapeToString(bias)}`);
    }
  }
}

/** Groups divide the channels of weight dimension 0 (`dim0Channels`: output or input) and of x, which has `wantChannels`. */
function checkChannels(op: string, x: Shape, w: Shape, groups: number, wantChannels: number, dim0Channels: 'output' | 'input'): void {
  if (w[0] % groups !== 0) {
    throw new Error(`${op}: groups ${groups} must divide the ${dim0Channels} channels, but weight ${shapeToString(w)} has ${w[0]} (dimension 0)`);
  }
  if (x[1] % groups !== 0) throw new Error(`${op}: groups ${groups} must divide the input channels, but input ${shapeToString(x)} has ${x[1]}`);
  if (x[1] !== wantChannels) {
    throw new Error(`${op}: expected input ${shapeToString(x)} to have ${wantChannels} channels (weight ${shapeToString(w)}, groups ${groups}), but got ${x[1]} channels`);
  }
}

/** Output size of a convolution along one dimension (PyTorch's formula). */
function convOut(input: number, kernel: number, stride: number, padding: number, dilation: number): number {
  return Math.floor((input + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** conv2d's geometry from x [N, Cin, H, W] and w [Cout, Cin/G, kH, kW]; throws naming the shapes. */
function convGeometry(op: string, x: Shape, w: Shape, bias: Shape | undefined, a: ConvAttrs): Conv2dGeometry {
  checkOperands(op, x, w, bias, (ws) => ws[0], a.groups);
  checkChannels(op, x, w, a.groups, w[1] * a.groups, 'output');
  const outH = convOut(x[2], w[2], a.stride[0], a.padding[0], a.dilation[0]);
  const outW = convOut(x[3], w[3], a.stride[1], a.padding[1], a.dilation[1]);
  if (outH < 1 || outW < 1) {
    throw new Error(`${op}: computed output size [${outH}, ${outW}] is too small for input ${shapeToString(x)} with kernel [${w[2]}, ${w[3]}], ${settings(a)}`);
  }
  return geometry(x[0], [x[1], x[2], x[3]], [w[0], outH, outW], [w[2], w[3]], a);
}

/**
 * convTranspose2d's geometry from x [N, Cin, H, W] and w [Cin, Cout/G, kH, kW], described as
 * the convolution it transposes (whose input has the transposed convolution's output shape).
 */
function transposeGeometry(op: string, x: Shape, w: Shape, bias: Shape | undefined, a: ConvTransposeAttrs): Conv2dGeometry {
  checkOperands(op, x, w, bias, (ws, groups) => ws[1] * groups, a.groups);
  checkChannels(op, x, w, a.groups, w[0], 'input');
  for (let d = 0; d < 2; d++) {
    if (a.outputPadding[d] >= a.stride[d] && a.outputPadding[d] >= a.dilation[d]) {
      throw new Error(`${op}: outputPadding ${pairText(a.outputPadding)} must be smaller than either stride ${pairText(a.stride)} or dilation ${pairText(a.dilation)} in each dimension`);
    }
  }
  const size = (d: number): number => (x[2 + d] - 1) * a.stride[d] - 2 * a.padding[d] + a.dilation[d] * (w[2 + d] - 1) + a.outputPadding[d] + 1;
  const [outH, outW] = [size(0), size(1)];
  if (outH < 1 || outW < 1) {
    throw new Error(
      `${op}: computed output size [${outH}, ${outW}] is too small for input ${shapeToString(x)} with kernel [${w[2]}, ${w[3]}], ` +
        settings(a, `, outputPadding ${pairText(a.outputPadding)}`),
    );
  }
  return geometry(x[0], [w[1] * a.groups, outH, outW], [x[1], x[2], x[3]], [w[2], w[3]], a);
}

/** The geometry of the convolution whose weight gradient conv2dWeightGrad computes from x and dy. */
function weightGradGeometry(op: string, x: Shape, dy: Shape, a: WeightGradAttrs): Conv2dGeometry {
  if (x.length !== 4 || dy.length !== 4 || x[0] !== dy[0] || x[1] % a.groups !== 0 || dy[1] % a.groups !== 0) {
    throw new Error(`${op}: input ${shapeToString(x)} and output gradient ${shapeToString(dy)} must be 4-D with one batch size and channels divisible by groups ${a.groups}`);
  }
  // The gradient may cover fewer positions than the convolution has (a transposed
  // convolution whose outputPadding reaches past the stride), never more.
  const full = [0, 1].map((d) => convOut(x[2 + d], a.kernel[d], a.stride[d], a.padding[d], a.dilation[d]));
  if (dy[2] < 1 || dy[3] < 1 || dy[2] > full[0] || dy[3] > full[1]) {
    throw new Error(`${op}: output gradient ${shapeToString(dy)} does not fit a convolution of input ${shapeToString(x)} with kernel ${pairText(a.kernel)}, ${settings(a)}`);
  }
  return geometry(x[0], [x[1], x[2], x[3]], [dy[1], dy[2], dy[3]], a.kernel, a);
}

function geometry(batch: number, [inChannels, inH, inW]: number[], [outChannels, outH, outW]: number[], kernel: Pair, a: ConvAttrs): Conv2dGeometry {
  return {
    batch,
    inChannels,
    inH,
    inW,
    outChannels,
    outH,
    outW,
    kernelH: kernel[0],
    kernelW: kernel[1],
    strideH: a.stride[0],
    strideW: a.stride[1],
    padH: a.padding[0],
    padW: a.padding[1],
    dilationH: a.dilation[0],
    dilationW: a.dilation[1],
    groups: a.groups,
  };
}

const weightShape = (g: Conv2dGeometry): number[] => [g.outChannels, g.inChannels / g.groups, g.kernelH, g.kernelW];

/** The weight gradient of the convolution of x giving dy. */
function weightGradient(x: Tensor, dy: Tensor, a: ConvAttrs, kernel: Pair): Tensor {
  return runOp<WeightGradAttrs>('conv2dWeightGrad', [x, dy], { stride: a.stride, padding: a.padding, dilation: a.dilation, groups: a.groups, kernel });
}

/** The bias gradient: the output gradient summed over the batch and every position. */
const biasGradient = (grad: Tensor, b: Tensor | undefined): Tensor | null => (b?.requiresGrad ? sum(grad, [0, 2, 3]) : null);

const kernelOf = (g: Conv2dGeometry): Pair => [g.kernelH, g.kernelW];

registerOp<ConvAttrs>({
  name: 'conv2d',
  shape: ([x, w, b], a) => {
    const g = convGeometry('conv2d', x, w, b, a);
    return [g.batch, g.outChannels, g.outH, g.outW];
  },
  cpu: ([x, w, b], out, a) => conv2dReference(x.data, w.data, b?.data ?? null, out.data, convGeometry('conv2d', x.shape, w.shape, b?.shape, a)),
  gpu: ([x, w, b], out, a, { traits }) => [conv2dProgram(convGeometry('conv2d', x.shape, w.shape, b?.shape, a), x, w, b ?? null, out, traits)],
  backward: ({ grad, inputs: [x, w, b], attrs: a }) => {
    const g = convGeometry('conv2d', x.shape, w.shape, b?.shape, a);
    // The transposed convolution of dy gives back x's size when outputPadding restores the
    // rows and columns the forward's stride left over.
    const leftover = (d: 0 | 1): number => (x.shape[2 + d] + 2 * a.padding[d] - a.dilation[d] * (w.shape[2 + d] - 1) - 1) % a.stride[d];
    const dx = x.requiresGrad ? runOp<ConvTransposeAttrs>('convTranspose2d', [grad, w], { ...a, outputPadding: [leftover(0), leftover(1)] }) : null;
    const dw = w.requiresGrad ? weightGradient(x, grad, a, kernelOf(g)) : null;
    return b ? [dx, dw, biasGradient(grad, b)] : [dx, dw];
  },
});

registerOp<ConvTransposeAttrs>({
  name: 'convTranspose2d',
  shape: ([x, w, b], a) => {
    const g = transposeGeometry('convTranspose2d', x, w, b, a);
    return [g.batch, g.inChannels, g.inH, g.inW];
  },
  cpu: ([x, w, b], out, a) => conv2dInputGradReference(x.data, w.data, b?.data ?? null, out.data, transposeGeometry('convTranspose2d', x.shape, w.shape, b?.shape, a)),
  gpu: ([x, w, b], out, a, { traits }) => [conv2dInputGradProgram('convTranspose2d', transposeGeometry('convTranspose2d', x.shape, w.shape, b?.shape, a), x, w, b ?? null, out, traits)],
  backward: ({ grad, inputs: [x, w, b], attrs: a }) => {
    const g = transposeGeometry('convTranspose2d', x.shape, w.shape, b?.shape, a);
    const conv: ConvAttrs = { stride: a.stride, padding: a.padding, dilation: a.dilation, groups: a.groups };
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      dx = runOp<ConvAttrs>('conv2d', [grad, w], conv);
      // An outputPadding past the stride adds output rows no input position reaches.
      if (dx.shape[2] !== g.outH || dx.shape[3] !== g.outW) {
        const full = dx;
        dx = slice(full, [0, 0, 0, 0], [g.batch, g.outChannels, g.outH, g.outW]);
        full.dispose();
      }
    }
    const dw = w.requiresGrad ? weightGradient(grad, x, conv, kernelOf(g)) : null;
    return b ? [dx, dw, biasGradient(grad, b)] : [dx, dw];
  },
});

// Inputs: the convolution's input x and the gradient of its output dy; output: the weight's
// gradient (on a GPU a long batch may be summed in blocks: see conv2dWeightGradPrograms).
registerOp<WeightGradAttrs>({
  name: 'conv2dWeightGrad',
  shape: ([x, dy], a) => {
    return weightShape(weightGradGeometry('conv2dWeightGrad', x, dy, a));
  },
  cpu: ([x, dy], dw, a) => conv2dWeightGradReference(x.data, dy.data, dw.data, weightGradGeometry('conv2dWeightGrad', x.shape, dy.shape, a)),
  gpu: ([x, dy], dw, a, ctx) => conv2dWeightGradPrograms(weightGradGeometry('conv2dWeightGrad', x.shape, dy.shape, a), x, dy, dw, ctx),
});

/**
 * 2-D convolution, torch.nn.functional.conv2d: input [N, Cin, H, W] and weight
 * [Cout, Cin / groups, kH, kW] give [N, Cout, outH, outW] with
 * outH = ⌊(H + 2·padding − dilation·(kH − 1) − 1) / stride⌋ + 1 (likewise outW); the input
 * is padded with zeros. `groups` splits the channels into independent convolutions
 * (groups = Cin = Cout is a depthwise convolution). Differentiable in input, weight and bias.
 */
export function conv2d(input: Tensor, weight: Tensor, options: Conv2dOptions = {}): Tensor {
  const attrs = convAttrs('conv2d', options);
  return runOp<ConvAttrs>('conv2d', options.bias ? [input, weight, options.bias] : [input, weight], attrs);
}

/**
 * 2-D transposed convolution, torch.nn.functional.conv_transpose2d (the gradient of conv2d
 * with respect to its input): input [N, Cin, H, W] and weight [Cin, Cout / groups, kH, kW]
 * give [N, Cout, outH, outW] with
 * outH = (H − 1)·stride − 2·padding + dilation·(kH − 1) + outputPadding + 1 (likewise outW).
 * Differentiable in input, weight and bias.
 */
export function convTranspose2d(input: Tensor, weight: Tensor, options: ConvTranspose2dOptions = {}): Tensor {
  const attrs: ConvTransposeAttrs = { ...convAttrs('convTranspose2d', options), outputPadding: size2d('convTranspose2d', 'outputPadding', options.outputPadding ?? 0, 0) };
  return runOp<ConvTransposeAttrs>('convTranspose2d', options.bias ? [input, weight, options.bias] : [input, weight], attrs);
}
