import { flatten, globalAvgPool2d, type Tensor } from '@welford/core';
import { checkPositiveInt } from '../checks.ts';
import { Conv2d } from '../layers/conv2d.ts';
import { ReLU } from '../layers/activation.ts';
import { Linear } from '../layers/linear.ts';
import { Module } from '../module/module.ts';
import { convBias, normChoice, normLayer, type NormChoice } from './norm_choice.ts';

/** Options of `smallCnn`. */
export interface SmallCnnOptions extends NormChoice {
  /** Input channels (default 1). */
  inChannels?: number;
  /** Output logits (default 10). */
  classes?: number;
  /**
   * Number of conv stages when `widths` is not given (default 3): stage i has stride 2 when i is
   * odd and `width · 2^⌈i/2⌉` channels, so the channels double each time the image halves
   * (depth 3: [w, 2w, 2w] with strides [1, 2, 1]; depth 4 adds a stride-2 stage of 4w).
   */
  depth?: number;
  /** Channels of the first stage when `widths` is not given (default 16). */
  width?: number;
  /** Output channels of each 3×3 convolution (default: from `depth` and `width`, [16, 32, 32]). */
  widths?: readonly number[];
  /** Stride of each convolution (default [1, 2, 1, 2, ...]); one per width. */
  strides?: readonly number[];
}

/** The widths and strides of a small CNN of `depth` stages whose first stage has `width` channels. */
export function smallCnnStages(depth: number, width: number): { widths: number[]; strides: number[] } {
  checkPositiveInt('SmallCnn', 'depth', depth);
  checkPositiveInt('SmallCnn', 'width', width);
  const stages = Array.from({ length: depth }, (_, i) => i);
  return { widths: stages.map((i) => width * 2 ** Math.ceil(i / 2)), strides: alternatingStrides(depth) };
}

/** The stages the options ask for: explicit widths (with their strides, or alternating ones), or depth and width. */
function stagesOf(options: SmallCnnOptions): { widths: readonly number[]; strides: readonly number[] | undefined } {
  const { widths, strides } = options;
  if (widths === undefined) {
    const stages = smallCnnStages(options.depth ?? 3, options.width ?? 16);
    return { widths: stages.widths, strides: strides ?? stages.strides };
  }
  // Not an array: the checks in SmallCnn's constructor say so.
  return { widths, strides: strides ?? (Array.isArray(widths) ? alternatingStrides(widths.length) : undefined) };
}

/** Strides 1, 2, 1, 2, ...: every second stage halves the image. */
function alternatingStrides(stages: number): number[] {
  return Array.from({ length: stages }, (_, i) => (i % 2 === 1 ? 2 : 1));
}

/**
 * A plain convolutional classifier: per width a stage conv{i} (3×3, padding 1, with the
 * stride), bn{i} (the chosen norm, whatever its kind) and relu{i} (a ReLU module, which runs in
 * the norm's kernel pass), then global average pooling and `fc`. The defaults are the benchmark "model S". Build it
 * with `smallCnn`.
 */
export class SmallCnn extends Module {
  static override readonly typeName = 'SmallCnn';
  readonly widths: readonly number[];
  readonly strides: readonly number[];
  /** conv1, conv2, ... */
  readonly convs: readonly Conv2d[];
  /** bn1, bn2, ... (named bn whatever the norm's kind). */
  readonly norms: readonly Module[];
  /** relu1, relu2, ...: the ReLU after each norm. */
  readonly relus: readonly ReLU[];
  readonly fc: Linear;

  constructor(options: SmallCnnOptions = {}) {
    super();
    if (options.widths !== undefined && (options.depth !== undefined || options.width !== undefined)) {
      throw new Error('SmallCnn: give either widths (and strides) or depth and width, not both');
    }
    const { inChannels = 1, classes = 10 } = options;
    const { widths, strides } = stagesOf(options);
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
    const relus: ReLU[] = [];
    widths.forEach((w, i) => {
      const cin = i === 0 ? inChannels : widths[i - 1];
      convs.push(this.registerModule(`conv${i + 1}`, new Conv2d(cin, w, 3, { stride: strides[i], padding: 1, bias: convBias(choice) })));
      norms.push(this.registerModule(`bn${i + 1}`, normLayer(choice, w)));
      relus.push(this.registerModule(`relu${i + 1}`, new ReLU()));
    });
    this.widths = [...widths];
    this.strides = [...strides];
    this.convs = convs;
    this.norms = norms;
    this.relus = relus;
    this.fc = this.registerModule('fc', new Linear(widths[widths.length - 1], classes));
  }

  forward(x: Tensor): Tensor {
    for (let i = 0; i < this.convs.length; i++) x = this.relus[i].call(this.norms[i].call(this.convs[i].call(x)));
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
