import { conv2d, convTranspose2d, narrow, type Tensor } from '@welford/core';
import { checkPositiveInt } from '../checks.ts';
import { defaultBias, defaultWeight } from '../init.ts';
import { onImages, pairOf, pairText, type Size2d } from './spatial.ts';
import { WeightedLayer } from './weighted.ts';

/** Options shared by Conv2d and ConvTranspose2d. */
interface ConvLayerOptions {
  /** Step between kernel placements (default 1). */
  stride?: Size2d;
  /** Spacing between kernel taps (default 1). */
  dilation?: Size2d;
  /** Channels split into this many independent convolutions (default 1); must divide both channel counts. */
  groups?: number;
  /** Learn a bias per output channel (default true). */
  bias?: boolean;
}

export interface Conv2dLayerOptions extends ConvLayerOptions {
  /**
   * Zeros added on each side (default 0): a size, [height, width], 'valid' (no padding) or
   * 'same' (output as large as the input; stride 1 only; an odd total puts the extra row and
   * column at the bottom and right, as PyTorch does).
   */
  padding?: Size2d | 'same' | 'valid';
}

export interface ConvTranspose2dLayerOptions extends ConvLayerOptions {
  /** Rows and columns removed from each side of the output (default 0). */
  padding?: Size2d;
  /** Extra rows and columns added to the bottom and right of the output (default 0); each below stride or dilation. */
  outputPadding?: Size2d;
}

type Pair = [number, number];

/** The checked settings both convolution layers store. */
interface ConvSettings {
  kernelSize: Pair;
  stride: Pair;
  dilation: Pair;
  groups: number;
}

function convSettings(layer: string, inChannels: number, outChannels: number, kernelSize: Size2d, o: ConvLayerOptions): ConvSettings {
  checkPositiveInt(layer, 'inChannels', inChannels);
  checkPositiveInt(layer, 'outChannels', outChannels);
  const { stride = 1, dilation = 1, groups = 1 } = o;
  checkPositiveInt(layer, 'groups', groups);
  if (inChannels % groups !== 0) throw new Error(`${layer}: inChannels must be divisible by groups, got inChannels=${inChannels}, groups=${groups}`);
  if (outChannels % groups !== 0) throw new Error(`${layer}: outChannels must be divisible by groups, got outChannels=${outChannels}, groups=${groups}`);
  if (o.bias !== undefined && typeof o.bias !== 'boolean') throw new Error(`${layer}: bias must be a boolean, got ${String(o.bias)}`);
  return { kernelSize: pairOf(layer, 'kernelSize', kernelSize, 1), stride: pairOf(layer, 'stride', stride, 1), dilation: pairOf(layer, 'dilation', dilation, 1), groups };
}

/** PyTorch's repr: the channels and kernel, then the settings that differ from their defaults ("padding=..." parts given). */
function convRepr(inChannels: number, outChannels: number, s: ConvSettings, paddings: string[], bias: boolean): string {
  const parts = [`${inChannels}, ${outChannels}, kernelSize=${pairText(s.kernelSize)}`];
  if (s.stride[0] !== 1 || s.stride[1] !== 1) parts.push(`stride=${pairText(s.stride)}`);
  parts.push(...paddings);
  if (s.dilation[0] !== 1 || s.dilation[1] !== 1) parts.push(`dilation=${pairText(s.dilation)}`);
  if (s.groups !== 1) parts.push(`groups=${s.groups}`);
  if (!bias) parts.push('bias=false');
  return parts.join(', ');
}

/** "name=[h, w]" unless both are 0. */
function nonZero(name: string, p: Pair): string[] {
  return p[0] !== 0 || p[1] !== 0 ? [`${name}=${pairText(p)}`] : [];
}

/**
 * 2-D convolution over [N, inChannels, H, W] (or unbatched [inChannels, H, W]), as
 * `torch.nn.Conv2d`: weight [outChannels, inChannels / groups, kH, kW] and bias [outChannels],
 * both initialised U(−1/√fanIn, 1/√fanIn) with fanIn = inChannels / groups · kH · kW.
 */
export class Conv2d extends WeightedLayer {
  static override readonly typeName = 'Conv2d';
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly dilation: Pair;
  readonly groups: number;
  /** Symmetric padding given to the convolution; for 'same' with an odd total, the larger side. */
  readonly padding: Pair;
  readonly paddingMode: 'explicit' | 'same' | 'valid';
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  /** Leading output rows and columns to drop: 'same' with an odd total padding pads one more on top and left, then crops. */
  private readonly crop: Pair;

  constructor(inChannels: number, outChannels: number, kernelSize: Size2d, options: Conv2dLayerOptions = {}) {
    super();
    const s = convSettings('Conv2d', inChannels, outChannels, kernelSize, options);
    const { padding = 0, bias = true } = options;
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = s.kernelSize;
    this.stride = s.stride;
    this.dilation = s.dilation;
    this.groups = s.groups;
    if (padding === 'same') {
      if (s.stride[0] !== 1 || s.stride[1] !== 1) throw new Error(`Conv2d: padding='same' is not supported for strided convolutions, got stride=${pairText(s.stride)}`);
      // Total padding dilation·(k − 1) per axis; PyTorch puts ⌊total/2⌋ before and the rest after.
      const total = [0, 1].map((d) => s.dilation[d] * (s.kernelSize[d] - 1));
      this.padding = [Math.ceil(total[0] / 2), Math.ceil(total[1] / 2)];
      this.crop = [total[0] % 2, total[1] % 2];
      this.paddingMode = 'same';
    } else if (padding === 'valid') {
      this.padding = [0, 0];
      this.crop = [0, 0];
      this.paddingMode = 'valid';
    } else {
      if (typeof padding === 'string') throw new Error(`Conv2d: padding must be a non-negative integer, a pair of them, 'same' or 'valid', got ${JSON.stringify(padding)}`);
      this.padding = pairOf('Conv2d', 'padding', padding, 0);
      this.crop = [0, 0];
      this.paddingMode = 'explicit';
    }
    const shape = [outChannels, inChannels / this.groups, ...this.kernelSize];
    this.weight = this.registerParameter('weight', defaultWeight(shape));
    this.bias = this.registerParameter('bias', bias ? defaultBias(outChannels, shape) : null);
  }

  forward(x: Tensor): Tensor {
    return onImages('Conv2d', x, this.inChannels, (images) => {
      let y = conv2d(images, this.effectiveWeight(), { bias: this.bias, stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
      if (this.crop[0]) y = narrow(y, 2, 1, y.shape[2] - 1);
      if (this.crop[1]) y = narrow(y, 3, 1, y.shape[3] - 1);
      return y;
    });
  }

  override extraRepr(): string {
    const padding = this.paddingMode === 'explicit' ? nonZero('padding', this.padding) : [`padding='${this.paddingMode}'`];
    return convRepr(this.inChannels, this.outChannels, this, padding, this.bias !== null);
  }
}

/**
 * 2-D transposed convolution (the gradient of a convolution with respect to its input), as
 * `torch.nn.ConvTranspose2d`: weight [inChannels, outChannels / groups, kH, kW], bias
 * [outChannels]; output size (H − 1)·stride − 2·padding + dilation·(kH − 1) + outputPadding + 1.
 * Initialised like PyTorch: U(−1/√fanIn, 1/√fanIn) with torch's fanIn of that weight shape,
 * outChannels / groups · kH · kW.
 */
export class ConvTranspose2d extends WeightedLayer {
  static override readonly typeName = 'ConvTranspose2d';
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly dilation: Pair;
  readonly groups: number;
  readonly padding: Pair;
  readonly outputPadding: Pair;
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(inChannels: number, outChannels: number, kernelSize: Size2d, options: ConvTranspose2dLayerOptions = {}) {
    super();
    const s = convSettings('ConvTranspose2d', inChannels, outChannels, kernelSize, options);
    const { padding = 0, outputPadding = 0, bias = true } = options;
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = s.kernelSize;
    this.stride = s.stride;
    this.dilation = s.dilation;
    this.groups = s.groups;
    this.padding = pairOf('ConvTranspose2d', 'padding', padding, 0);
    this.outputPadding = pairOf('ConvTranspose2d', 'outputPadding', outputPadding, 0);
    for (let d = 0; d < 2; d++) {
      if (this.outputPadding[d] >= this.stride[d] && this.outputPadding[d] >= this.dilation[d]) {
        throw new Error(
          `ConvTranspose2d: outputPadding must be smaller than either stride or dilation in each dimension, ` +
            `got outputPadding=${pairText(this.outputPadding)}, stride=${pairText(this.stride)}, dilation=${pairText(this.dilation)}`,
        );
      }
    }
    const shape = [inChannels, outChannels / this.groups, ...this.kernelSize];
    this.weight = this.registerParameter('weight', defaultWeight(shape));
    this.bias = this.registerParameter('bias', bias ? defaultBias(outChannels, shape) : null);
  }

  /** The weight's output channels are dimension 1. */
  override get outputDim(): number {
    return 1;
  }

  forward(x: Tensor): Tensor {
    return onImages('ConvTranspose2d', x, this.inChannels, (images) =>
      convTranspose2d(images, this.effectiveWeight(), {
        bias: this.bias,
        stride: this.stride,
        padding: this.padding,
        outputPadding: this.outputPadding,
        dilation: this.dilation,
        groups: this.groups,
      }),
    );
  }

  override extraRepr(): string {
    const paddings = [...nonZero('padding', this.padding), ...nonZero('outputPadding', this.outputPadding)];
    return convRepr(this.inChannels, this.outChannels, this, paddings, this.bias !== null);
  }
}
