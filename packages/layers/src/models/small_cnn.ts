import { flatten, globalAvgPool2d, type Tensor } from '@welford/core';
import { checkPositiveInt } from '../checks.ts';
import { ReLU } from '../layers/activation.ts';
import { Conv2d } from '../layers/conv2d.ts';
import { Linear } from '../layers/linear.ts';
import { Module } from '../module/module.ts';
import { Sequential } from '../module/sequential.ts';
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
 * A plain convolutional classifier: `features` = Sequential of (Conv2d 3×3, padding 1, with
 * the stride; norm; ReLU) per width, then global average pooling and `fc`. The defaults are
 * the benchmark "model S". Build it with `smallCnn`.
 */
export class SmallCnn extends Module {
  readonly widths: readonly number[];
  readonly strides: readonly number[];
  readonly features: Sequential;
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
    const layers: Module[] = [];
    widths.forEach((w, i) => {
      const cin = i === 0 ? inChannels : widths[i - 1];
      layers.push(new Conv2d(cin, w, 3, { stride: strides[i], padding: 1, bias: convBias(choice) }), normLayer(choice, w), new ReLU());
    });
    this.widths = [...widths];
    this.strides = [...strides];
    this.features = this.registerModule('features', new Sequential(...layers));
    this.fc = this.registerModule('fc', new Linear(widths[widths.length - 1], classes));
  }

  forward(x: Tensor): Tensor {
    return this.fc.call(flatten(globalAvgPool2d(this.features.call(x)), 1));
  }

  override extraRepr(): string {
    return `widths=[${this.widths.join(', ')}], strides=[${this.strides.join(', ')}]`;
  }
}

/** A small CNN classifier (see `SmallCnn` and `SmallCnnOptions`). */
export function smallCnn(options: SmallCnnOptions = {}): SmallCnn {
  return new SmallCnn(options);
}
