import { avgPool2d, globalAvgPool2d, maxPool2d, shapeToString, type Tensor } from '@welford/core';
import { Module } from '../module/module.ts';
import { onImages, pairOf, pairText, type Size2d } from './spatial.ts';

export interface MaxPool2dLayerOptions {
  /** Step between windows (default: the kernel size). */
  stride?: Size2d;
  /** Implicit −∞ on each side (default 0); at most half the kernel size. */
  padding?: Size2d;
}

export interface AvgPool2dLayerOptions {
  /** Step between windows (default: the kernel size). */
  stride?: Size2d;
  /** Implicit zeros on each side (default 0); at most half the kernel size. */
  padding?: Size2d;
  /** Divide by the whole window, padding included (default true), or only by the positions inside the input. */
  countIncludePad?: boolean;
}

type Pair = [number, number];

/** Kernel, stride and padding checked when the layer is built, so a bad setting fails there and not at the first call. */
function windowOf(layer: string, kernelSize: Size2d, stride: Size2d | undefined, padding: Size2d): { kernelSize: Pair; stride: Pair; padding: Pair } {
  const k = pairOf(layer, 'kernelSize', kernelSize, 1);
  const p = pairOf(layer, 'padding', padding, 0);
  if (p[0] > k[0] / 2 || p[1] > k[1] / 2) throw new Error(`${layer}: padding should be at most half of kernelSize, got padding=${pairText(p)}, kernelSize=${pairText(k)}`);
  return { kernelSize: k, stride: stride === undefined ? k : pairOf(layer, 'stride', stride, 1), padding: p };
}

function windowRepr(w: { kernelSize: Pair; stride: Pair; padding: Pair }): string {
  return `kernelSize=${pairText(w.kernelSize)}, stride=${pairText(w.stride)}, padding=${pairText(w.padding)}`;
}

/**
 * 2-D max pooling over [N, C, H, W] or unbatched [C, H, W] (`torch.nn.MaxPool2d` without
 * dilation or ceil mode): the maximum of each kernelSize window, windows `stride` apart.
 */
export class MaxPool2d extends Module {
  static override readonly typeName = 'MaxPool2d';
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: Pair;

  constructor(kernelSize: Size2d, { stride, padding = 0 }: MaxPool2dLayerOptions = {}) {
    super();
    ({ kernelSize: this.kernelSize, stride: this.stride, padding: this.padding } = windowOf('MaxPool2d', kernelSize, stride, padding));
  }

  forward(x: Tensor): Tensor {
    return onImages('MaxPool2d', x, null, (images) => maxPool2d(images, { kernelSize: this.kernelSize, stride: this.stride, padding: this.padding }));
  }

  override extraRepr(): string {
    return windowRepr(this);
  }
}

/**
 * 2-D average pooling over [N, C, H, W] or unbatched [C, H, W] (`torch.nn.AvgPool2d` without
 * ceil mode): the mean of each window; padding counts as zeros, and in the divisor unless
 * `countIncludePad` is false.
 */
export class AvgPool2d extends Module {
  static override readonly typeName = 'AvgPool2d';
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly countIncludePad: boolean;

  constructor(kernelSize: Size2d, { stride, padding = 0, countIncludePad = true }: AvgPool2dLayerOptions = {}) {
    super();
    ({ kernelSize: this.kernelSize, stride: this.stride, padding: this.padding } = windowOf('AvgPool2d', kernelSize, stride, padding));
    if (typeof countIncludePad !== 'boolean') throw new Error(`AvgPool2d: countIncludePad must be a boolean, got ${String(countIncludePad)}`);
    this.countIncludePad = countIncludePad;
  }

  forward(x: Tensor): Tensor {
    const { kernelSize, stride, padding, countIncludePad } = this;
    return onImages('AvgPool2d', x, null, (images) => avgPool2d(images, { kernelSize, stride, padding, countIncludePad }));
  }

  override extraRepr(): string {
    return `${windowRepr(this)}${this.countIncludePad ? '' : ', countIncludePad=false'}`;
  }
}

/**
 * Average pooling to a fixed output size [outH, outW] (`torch.nn.AdaptiveAvgPool2d`). Output 1
 * is the global average, kept as [N, C, 1, 1] like PyTorch. Other sizes must divide the input's
 * height and width (the windows are then equal and disjoint, an average pooling); PyTorch's
 * overlapping windows for other sizes are not supported.
 */
export class AdaptiveAvgPool2d extends Module {
  static override readonly typeName = 'AdaptiveAvgPool2d';
  readonly outputSize: Pair;

  constructor(outputSize: Size2d) {
    super();
    this.outputSize = pairOf('AdaptiveAvgPool2d', 'outputSize', outputSize, 1);
  }

  forward(x: Tensor): Tensor {
    const [oh, ow] = this.outputSize;
    return onImages('AdaptiveAvgPool2d', x, null, (images) => {
      if (oh === 1 && ow === 1) return globalAvgPool2d(images);
      const [h, w] = [images.shape[2], images.shape[3]];
      if (h % oh !== 0 || w % ow !== 0) {
        throw new Error(
          `AdaptiveAvgPool2d: output size ${pairText(this.outputSize)} needs an input height and width divisible by it ` +
            `(supported: output 1, or sizes dividing the input), got input of shape ${shapeToString(x.shape)}`,
        );
      }
      return avgPool2d(images, { kernelSize: [h / oh, w / ow] });
    });
  }

  override extraRepr(): string {
    return `outputSize=${pairText(this.outputSize)}`;
  }
}
