import { concat, maxPool2d, pad, shapeToString, type Tensor } from '@welford/core';
import { checkPositiveInt } from '../checks.ts';
import { ReLU } from '../layers/activation.ts';
import { Conv2d, ConvTranspose2d } from '../layers/conv2d.ts';
import { Module } from '../module/module.ts';
import { ModuleList } from '../module/sequential.ts';
import { convBias, normChoice, normLayer, type NormChoice } from './norm_choice.ts';

/**
 * Two 3×3 convolutions (padding 1), each followed by its norm and a ReLU: the unit of every
 * U-Net level. Children: conv1, norm1, relu1, conv2, norm2, relu2. The convolutions learn a bias only when
 * the norm is 'none'.
 */
export class DoubleConv extends Module {
  static override readonly typeName = 'DoubleConv';
  readonly inChannels: number;
  readonly outChannels: number;
  readonly conv1: Conv2d;
  readonly norm1: Module;
  readonly relu1: ReLU;
  readonly conv2: Conv2d;
  readonly norm2: Module;
  readonly relu2: ReLU;

  constructor(inChannels: number, outChannels: number, options: NormChoice = {}) {
    super();
    const choice = normChoice(options);
    const bias = convBias(choice);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.conv1 = this.registerModule('conv1', new Conv2d(inChannels, outChannels, 3, { padding: 1, bias }));
    this.norm1 = this.registerModule('norm1', normLayer(choice, outChannels));
    this.relu1 = this.registerModule('relu1', new ReLU());
    this.conv2 = this.registerModule('conv2', new Conv2d(outChannels, outChannels, 3, { padding: 1, bias }));
    this.norm2 = this.registerModule('norm2', normLayer(choice, outChannels));
    this.relu2 = this.registerModule('relu2', new ReLU());
  }

  forward(x: Tensor): Tensor {
    const h = this.relu1.call(this.norm1.call(this.conv1.call(x)));
    return this.relu2.call(this.norm2.call(this.conv2.call(h)));
  }

  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}`;
  }
}

/**
 * One decoder level: `upconv` (2×2 transposed convolution, stride 2, halving the channels)
 * doubles the height and width; the result is zero-padded to the skip connection's size when
 * pooling an odd size lost a row or column (⌊d/2⌋ on the top/left, the rest on the
 * bottom/right), concatenated after the skip on the channels, and passed through `conv`
 * (a DoubleConv to `outChannels`).
 */
export class UpBlock extends Module<[Tensor, Tensor], Tensor> {
  static override readonly typeName = 'UpBlock';
  readonly upconv: ConvTranspose2d;
  readonly conv: DoubleConv;

  constructor(inChannels: number, outChannels: number, options: NormChoice = {}) {
    super();
    if (!Number.isInteger(inChannels) || inChannels < 2 || inChannels % 2 !== 0) {
      throw new Error(`UpBlock: inChannels must be an even integer ≥ 2 (the upsampling halves it), got ${String(inChannels)}`);
    }
    this.upconv = this.registerModule('upconv', new ConvTranspose2d(inChannels, inChannels / 2, 2, { stride: 2 }));
    this.conv = this.registerModule('conv', new DoubleConv(inChannels, outChannels, options));
  }

  /** `x` from the level below, `skip` from the encoder at this level. */
  forward(x: Tensor, skip: Tensor): Tensor {
    let up = this.upconv.call(x);
    if (skip.rank !== 4 || up.rank !== 4 || skip.shape[0] !== up.shape[0] || skip.shape[2] < up.shape[2] || skip.shape[3] < up.shape[3]) {
      throw new Error(`UpBlock: the skip connection of shape ${shapeToString(skip.shape)} must be [N, C, H, W] with the batch of, and at least the height and width of, the upsampled ${shapeToString(up.shape)}`);
    }
    const dy = skip.shape[2] - up.shape[2];
    const dx = skip.shape[3] - up.shape[3];
    if (dy > 0 || dx > 0) up = pad(up, [dx >> 1, dx - (dx >> 1), dy >> 1, dy - (dy >> 1)]);
    return this.conv.call(concat([skip, up], 1));
  }
}

/** Options of `uNet`. */
export interface UNetOptions extends NormChoice {
  /** Poolings (default 3): the input is downsampled 2^depth times at the bottleneck. */
  depth?: number;
  /** Channels of the first level (default 16); level i has baseWidth·2^i, the bottleneck baseWidth·2^depth. */
  baseWidth?: number;
  /** Input channels (default 1). */
  inChannels?: number;
  /** Output channels (default 1): per-pixel logits. */
  outChannels?: number;
}

/**
 * The U-Net of Ronneberger et al. (2015) with padded convolutions, for segmentation: an
 * encoder `down` (DoubleConv per level, 2×2 max pooling between levels), a bottleneck `mid`,
 * a decoder `up` (UpBlock per level, with skip connections) and a 1×1 convolution `head` to
 * per-pixel logits of the input's height and width. Any height and width of at least
 * 2^depth works; odd sizes are handled by padding in the decoder. Build it with `uNet`.
 */
export class UNet extends Module {
  static override readonly typeName = 'UNet';
  readonly depth: number;
  readonly down: ModuleList<DoubleConv>;
  readonly mid: DoubleConv;
  readonly up: ModuleList<UpBlock>;
  readonly head: Conv2d;

  constructor(options: UNetOptions = {}) {
    super();
    const { depth = 3, baseWidth = 16, inChannels = 1, outChannels = 1 } = options;
    for (const [name, value] of Object.entries({ depth, baseWidth, inChannels, outChannels })) checkPositiveInt('UNet', name, value);
    const choice = normChoice(options);
    const widths = Array.from({ length: depth + 1 }, (_, i) => baseWidth * 2 ** i);
    this.depth = depth;
    this.down = this.registerModule('down', new ModuleList(widths.slice(0, depth).map((w, i) => new DoubleConv(i === 0 ? inChannels : widths[i - 1], w, choice))));
    this.mid = this.registerModule('mid', new DoubleConv(widths[depth - 1], widths[depth], choice));
    const decoder = widths.slice(0, depth).reverse().map((w) => new UpBlock(2 * w, w, choice));
    this.up = this.registerModule('up', new ModuleList(decoder));
    this.head = this.registerModule('head', new Conv2d(baseWidth, outChannels, 1));
  }

  forward(x: Tensor): Tensor {
    if (x.rank !== 4) throw new Error(`UNet: expected a 4-D input [N, C, H, W], got ${x.rank}-D input of shape ${shapeToString(x.shape)}`);
    const min = 2 ** this.depth;
    if (x.shape[2] < min || x.shape[3] < min) {
      throw new Error(`UNet: input height and width must be at least 2^depth = ${min} (depth ${this.depth}), got input of shape ${shapeToString(x.shape)}`);
    }
    const skips: Tensor[] = [];
    for (const level of this.down) {
      x = level.call(x);
      skips.push(x);
      x = maxPool2d(x, { kernelSize: 2 });
    }
    x = this.mid.call(x);
    for (const block of this.up) x = block.call(x, skips.pop()!);
    return this.head.call(x);
  }

  override extraRepr(): string {
    return `depth=${this.depth}`;
  }
}

/** A U-Net (see `UNet` and `UNetOptions`). */
export function uNet(options: UNetOptions = {}): UNet {
  return new UNet(options);
}
