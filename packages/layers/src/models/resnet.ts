import { flatten, globalAvgPool2d, type Tensor } from '@welford/core';
import { checkPositiveInt } from '../checks.ts';
import { Conv2d } from '../layers/conv2d.ts';
import { Linear } from '../layers/linear.ts';
import { Module } from '../module/module.ts';
import { Sequential } from '../module/sequential.ts';
import { convBias, normChoice, normLayer, type NormChoice } from './norm_choice.ts';
import { BasicBlock, Bottleneck } from './postact_block.ts';
import { PreActBlock, PreActBottleneck } from './preact_block.ts';
import type { BlockOptions } from './residual_block.ts';

/** The residual block a ResNet stacks: two 3×3 convolutions, or the 1×1-3×3-1×1 bottleneck (expansion 4). */
export type ResidualBlockKind = 'basic' | 'bottleneck';

/** Options of the CIFAR-style ResNets (three stages of widths w, 2w, 4w). */
export interface ResNetOptions extends NormChoice {
  /** Weighted layers: 6n+2 for basic blocks (8, 14, 20, 56, 110), 9n+2 for bottlenecks (11, 20, 29, 56, 110); n blocks per stage. */
  depth: number;
  /** Channels of the first stage (default 16); the others have 2× and 4× as many (times the expansion for bottlenecks). */
  width?: number;
  /** Output logits (default 10). */
  classes?: number;
  /** Input channels (default 1). */
  inChannels?: number;
  /** Block kind (default 'basic'). */
  block?: ResidualBlockKind;
}

interface BlockClass {
  new (inPlanes: number, planes: number, options: BlockOptions): Module & { readonly outPlanes: number };
  readonly expansion: number;
}

interface ResNetSettings {
  depth: number;
  width: number;
  classes: number;
  inChannels: number;
  block: ResidualBlockKind;
  /** Blocks per stage. */
  n: number;
}

function settings(model: string, options: ResNetOptions): ResNetSettings {
  const { depth, width = 16, classes = 10, inChannels = 1, block = 'basic' } = options;
  checkPositiveInt(model, 'width', width);
  checkPositiveInt(model, 'classes', classes);
  checkPositiveInt(model, 'inChannels', inChannels);
  if (block !== 'basic' && block !== 'bottleneck') throw new Error(`${model}: block must be 'basic' or 'bottleneck', got ${JSON.stringify(block)}`);
  const [per, examples] = block === 'basic' ? [6, '8, 14, 20, 56, 110'] : [9, '11, 20, 29, 56, 110'];
  if (!Number.isInteger(depth) || depth < per + 2 || (depth - 2) % per !== 0) {
    throw new Error(`${model}: depth must be ${per}n+2 with n ≥ 1 for ${block} blocks (${examples}, ...), got ${String(depth)}`);
  }
  return { depth, width, classes, inChannels, block, n: (depth - 2) / per };
}

/** The three stages: n blocks each, planes w, 2w, 4w, the first block of stages 2 and 3 with stride 2. */
function stages(block: BlockClass, s: ResNetSettings, choice: Required<NormChoice>): { layers: Sequential[]; channels: number } {
  let inPlanes = s.width;
  const layers = [1, 2, 4].map((factor, stage) => {
    const blocks = Array.from({ length: s.n }, (_, k) => {
      const b = new block(inPlanes, factor * s.width, { ...choice, stride: stage > 0 && k === 0 ? 2 : 1 });
      inPlanes = b.outPlanes;
      return b;
    });
    return new Sequential(...blocks);
  });
  return { layers, channels: inPlanes };
}

/** Registers the stages as layer1, layer2, layer3. */
function registerStages(model: Module, layers: Sequential[]): [Sequential, Sequential, Sequential] {
  const [a, b, c] = layers.map((layer, i) => model.registerModule(`layer${i + 1}`, layer));
  return [a, b, c];
}

/**
 * The pre-activation ResNet for small images (He et al., 2016): conv1 (3×3, inChannels → width),
 * layer1..layer3 of pre-activation blocks, the final `bn` and ReLU (pre-activation blocks leave
 * their sum un-normalized), global average pooling and `fc`. Works on any input size
 * (28×28, 32×32, ...). Build it with `preActResNet`.
 */
export class PreActResNet extends Module {
  static override readonly typeName = 'PreActResNet';
  readonly depth: number;
  readonly block: ResidualBlockKind;
  readonly conv1: Conv2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly bn: Module;
  readonly fc: Linear;

  constructor(options: ResNetOptions) {
    super();
    const s = settings('PreActResNet', options);
    const choice = normChoice(options);
    this.depth = s.depth;
    this.block = s.block;
    this.conv1 = this.registerModule('conv1', new Conv2d(s.inChannels, s.width, 3, { padding: 1, bias: convBias(choice) }));
    const { layers, channels } = stages(s.block === 'basic' ? PreActBlock : PreActBottleneck, s, choice);
    [this.layer1, this.layer2, this.layer3] = registerStages(this, layers);
    this.bn = this.registerModule('bn', normLayer(choice, channels, true));
    this.fc = this.registerModule('fc', new Linear(channels, s.classes));
  }

  forward(x: Tensor): Tensor {
    let out = this.conv1.call(x);
    out = this.layer3.call(this.layer2.call(this.layer1.call(out)));
    out = this.bn.call(out); // relu(bn(out)), fused
    return this.fc.call(flatten(globalAvgPool2d(out), 1));
  }

  override extraRepr(): string {
    return `depth=${this.depth}, block=${this.block}`;
  }
}

/**
 * The original post-activation ResNet for small images (He et al., 2015), for comparison:
 * conv1 (3×3), bn1, ReLU, layer1..layer3 of BasicBlock (or Bottleneck), global average pooling
 * and `fc`. Build it with `postActResNet`.
 */
export class PostActResNet extends Module {
  static override readonly typeName = 'PostActResNet';
  readonly depth: number;
  readonly block: ResidualBlockKind;
  readonly conv1: Conv2d;
  readonly bn1: Module;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly fc: Linear;

  constructor(options: ResNetOptions) {
    super();
    const s = settings('PostActResNet', options);
    const choice = normChoice(options);
    this.depth = s.depth;
    this.block = s.block;
    this.conv1 = this.registerModule('conv1', new Conv2d(s.inChannels, s.width, 3, { padding: 1, bias: convBias(choice) }));
    this.bn1 = this.registerModule('bn1', normLayer(choice, s.width, true));
    const { layers, channels } = stages(s.block === 'basic' ? BasicBlock : Bottleneck, s, choice);
    [this.layer1, this.layer2, this.layer3] = registerStages(this, layers);
    this.fc = this.registerModule('fc', new Linear(channels, s.classes));
  }

  forward(x: Tensor): Tensor {
    let out = this.bn1.call(this.conv1.call(x));
    out = this.layer3.call(this.layer2.call(this.layer1.call(out)));
    return this.fc.call(flatten(globalAvgPool2d(out), 1));
  }

  override extraRepr(): string {
    return `depth=${this.depth}, block=${this.block}`;
  }
}

/** A pre-activation ResNet of `depth` layers (see `PreActResNet` and `ResNetOptions`). */
export function preActResNet(options: ResNetOptions): PreActResNet {
  return new PreActResNet(options);
}

/** A post-activation ResNet of `depth` layers (see `PostActResNet` and `ResNetOptions`). */
export function postActResNet(options: ResNetOptions): PostActResNet {
  return new PostActResNet(options);
}
