import { flatten, globalAvgPool2d, type Tensor } from '@welford/core';
import { checkPositiveInt } from '../checks.ts';
import { Conv2d } from '../layers/conv2d.ts';
import { Linear } from '../layers/linear.ts';
import { Module } from '../module/module.ts';
import { convBias, normChoice, normLayer, type NormChoice } from './norm_choice.ts';

/** Options of `smallCnn`. */
export interface SmallCnnOptions extends NormChoice {
  /** Input channels (default 1). */
  inChannels?: number;
  /** Output logits (default 10). */
  classes?: number;
  /** Output channels of each 3×3 convolution (default [16, 32, 32]). */
  widths?: readonly number[];
  /** Stride of each convolution (default [1, 2, 1]); one per width. */
  strides?: readonly number[];
}

/**
 * A plain convolutional classifier: per width a stage conv{i} (3×3, padding 1, with the
 * stride), bn{i} (the chosen norm, whatever its kind) and ReLU (fused into the norm's kernel),
 * then global average pooling and `fc`. The defaults are the benchmark "model S". Build it
 * with `smallCnn`.
 */
export class SmallCnn extends Module {
  readonly widths: readonly number[];
  readonly strides: readonly number[];
  /** conv1, conv2, ... */
  readonly convs: readonly Conv2d[];
  /** bn1, bn2, ...: each norm applies the stage's ReLU. */
  readonly norms: readonly Module[];
  readonly fc: Linear;

  constructor(options: SmallCnnOptions = {}) {
    super();
    const { inChannels = 1, classes = 10, widths = [16, 32, 32], strides = [1, 2, 1] } = options;
    checkPositiveInt('SmallCnn', 'inChannels', inChannels);
    checkPositiveInt('SmallCnn', 'classes', classes);
    if (!Array.isArray(widths) || widths.length === 0 || !Array.isArray(strides) || widths.length !== strides.length) {
      throw new Error(`SmallCnn: widths and strides must be non-empty arrays of the same length, got widths ${JSON.stringify(widths)} and strides ${JSON.stringify(strides)}`);
    }
    widths.forEach((w, i) => checkPositiveInt('SmallCnn', `widths[${i}]`, w));
    strides.forEach((s, i) => checkPositiveInt('SmallCnn', `strides[${i}]`, s));
    const choice = normChoice(options);
    const convs: Conv2d[] = [];
    const norms: Module[] = [];
    widths.forEach((w, i) => {
      const cin = i === 0 ? inChannels : widths[i - 1];
      convs.push(this.registerModule(`conv${i + 1}`, new Conv2d(cin, w, 3, { stride: strides[i], padding: 1, bias: convBias(choice) })));
      norms.push(this.registerModule(`bn${i + 1}`, normLayer(choice, w, true)));
    });
    this.widths = [...widths];
    this.strides = [...strides];
    this.convs = convs;
    this.norms = norms;
    this.fc = this.registerModule('fc', new Linear(widths[widths.length - 1], classes));
  }

  forward(x: Tensor): Tensor {
    for (let i = 0; i < this.convs.length; i++) x = this.norms[i].call(this.convs[i].call(x));
    return this.fc.call(flatten(globalAvgPool2d(x), 1));
  }

  override extraRepr(): string {
    return `widths=[${this.widths.join(', ')}], strides=[${this.strides.join(', ')}]`;
  }
}

/** A small CNN classifier (see `SmallCnn` and `SmallCnnOptions`). */
export function smallCnn(options: SmallCnnOptions = {}): SmallCnn {
  return new SmallCnn(options);
}
