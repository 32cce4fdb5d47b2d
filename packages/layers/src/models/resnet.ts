import { flatten, globalAvgPool2d, type Tensor } from '@welford/core';
import { checkPositiveInt } from '../checks.ts';
import { ReLU } from '../layers/activation.ts';
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

/**
 * Options of the ResNets for small images: by default the CIFAR-style three stages of widths
 * w, 2w, 4w; with `blocks`, any 3 or 4 stages (ResNet-18 is `{ depth: 18, blocks: [2, 2, 2, 2], width: 64 }`).
 */
export interface ResNetOptions extends NormChoice {
  /**
   * Weighted layers. Without `blocks`: 6n+2 for basic blocks (8, 14, 20, 56, 110), 9n+2 for
   * bottlenecks (11, 20, 29, 56, 110), n blocks in each of three stages. With `blocks`, it must
   * agree with them: 2 (basic) or 3 (bottleneck) layers per block, plus conv1 and fc.
   */
  depth: number;
  /**
   * Blocks per stage, as torchvision's `layers` argument: 3 or 4 positive integers. Stage i
   * (`layer${i + 1}`) has width·2^i planes, and its first block has stride 2 from the second
   * stage on. [2, 2, 2, 2] with depth 18 and width 64 is ResNet-18, [3, 4, 6, 3] with depth 34
   * is ResNet-34. Default: three stages of n blocks, n from `depth`.
   */
  blocks?: readonly number[];
  /** Channels of the first stage (default 16); each later stage has twice as many as the one before (times the expansion for bottlenecks). */
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
  blocks: readonly number[];
}

function settings(model: string, options: ResNetOptions): ResNetSettings {
  const { depth, blocks, width = 16, classes = 10, inChannels = 1, block = 'basic' } = options;
  checkPositiveInt(model, 'width', width);
  checkPositiveInt(model, 'classes', classes);
  checkPositiveInt(model, 'inChannels', inChannels);
  if (block !== 'basic' && block !== 'bottleneck') throw new Error(`${model}: block must be 'basic' or 'bottleneck', got ${JSON.stringify(block)}`);
  return { depth, width, classes, inChannels, block, blocks: blocks === undefined ? equalStages(model, depth, block) : stagesOf(model, depth, block, blocks) };
}

/** The CIFAR-style three stages of n blocks each, n from a depth of 6n+2 (basic) or 9n+2 (bottleneck). */
function equalStages(model: string, depth: number, block: ResidualBlockKind): number[] {
  const [per, examples] = block === 'basic' ? [6, '8, 14, 20, 56, 110'] : [9, '11, 20, 29, 56, 110'];
  if (!Number.isInteger(depth) || depth < per + 2 || (depth - 2) % per !== 0) {
    throw new Error(`${model}: depth must be ${per}n+2 with n ≥ 1 for ${block} blocks (${examples}, ...), got ${String(depth)}`);
  }
  const n = (depth - 2) / per;
  return [n, n, n];
}

/** Checks explicit blocks per stage, and that `depth` counts their weighted layers. */
function stagesOf(model: string, depth: number, block: ResidualBlockKind, blocks: readonly number[]): readonly number[] {
  const valid = Array.isArray(blocks) && (blocks.length === 3 || blocks.length === 4) && blocks.every((b) => Number.isInteger(b) && b >= 1);
  if (!valid) throw new Error(`${model}: blocks must be 3 or 4 positive integers (blocks per stage, e.g. [2, 2, 2, 2]), got ${JSON.stringify(blocks)}`);
  const perBlock = block === 'basic' ? 2 : 3;
  const want = perBlock * blocks.reduce((a, b) => a + b, 0) + 2;
  if (depth !== want) {
    throw new Error(`${model}: depth must be ${want} for blocks ${JSON.stringify(blocks)} of ${block} blocks (${perBlock} weighted layers per block, plus conv1 and fc), got ${String(depth)}`);
  }
  return [...blocks];
}

/** The stages: blocks[i] blocks of width·2^i planes each, the first block of every stage after the first with stride 2. */
function stages(block: BlockClass, s: ResNetSettings, choice: Required<NormChoice>): { layers: Sequential[]; channels: number } {
  let inPlanes = s.width;
  const layers = s.blocks.map((n, stage) => {
    const blocks = Array.from({ length: n }, (_, k) => {
      const b = new block(inPlanes, 2 ** stage * s.width, { ...choice, stride: stage > 0 && k === 0 ? 2 : 1 });
      inPlanes = b.outPlanes;
      return b;
    });
    return new Sequential(...blocks);
  });
  return { layers, channels: inPlanes };
}

/** The stages registered as layer1, layer2, ...: three or four of them (`settings` checks). */
interface Stages {
  stages: readonly Sequential[];
  layer1: Sequential;
  layer2: Sequential;
  layer3: Sequential;
  layer4: Sequential | null;
}

/** Registers the stages as layer1, layer2, layer3 (and layer4). */
function registerStages(model: Module, layers: Sequential[]): Stages {
  const stages = layers.map((layer, i) => model.registerModule(`layer${i + 1}`, layer));
  const [layer1, layer2, layer3, layer4 = null] = stages;
  return { stages, layer1, layer2, layer3, layer4 };
}

/** depth and block kind, and the blocks per stage where the depth alone does not give them. */
function reprOf({ depth, block, blocks }: { depth: number; block: ResidualBlockKind; blocks: readonly number[] }): string {
  const equalThree = blocks.length === 3 && blocks.every((n) => n === blocks[0]);
  return `depth=${depth}, block=${block}${equalThree ? '' : `, blocks=[${blocks.join(', ')}]`}`;
}

/**
 * The pre-activation ResNet for small images (He et al., 2016): conv1 (3×3, inChannels → width),
 * layer1..layer3 (or layer4, with `blocks`) of pre-activation blocks, the final `bn` and ReLU
 * (pre-activation blocks leave their sum un-normalized), global average pooling and `fc`. Works
 * on any input size (28×28, 32×32, ...). Build it with `preActResNet` or `preActResNet18`.
 */
export class PreActResNet extends Module {
  static override readonly typeName = 'PreActResNet';
  readonly depth: number;
  readonly block: ResidualBlockKind;
  /** Blocks per stage. */
  readonly blocks: readonly number[];
  readonly conv1: Conv2d;
  /** layer1, layer2, ... in order. */
  readonly stages: readonly Sequential[];
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  /** The fourth stage, with four `blocks`; null with three. */
  readonly layer4: Sequential | null;
  readonly bn: Module;
  readonly relu: ReLU;
  readonly fc: Linear;

  constructor(options: ResNetOptions) {
    super();
    const s = settings('PreActResNet', options);
    const choice = normChoice(options);
    this.depth = s.depth;
    this.block = s.block;
    this.blocks = s.blocks;
    this.conv1 = this.registerModule('conv1', new Conv2d(s.inChannels, s.width, 3, { padding: 1, bias: convBias(choice) }));
    const { layers, channels } = stages(s.block === 'basic' ? PreActBlock : PreActBottleneck, s, choice);
    ({ stages: this.stages, layer1: this.layer1, layer2: this.layer2, layer3: this.layer3, layer4: this.layer4 } = registerStages(this, layers));
    this.bn = this.registerModule('bn', normLayer(choice, channels));
    this.relu = this.registerModule('relu', new ReLU());
    this.fc = this.registerModule('fc', new Linear(channels, s.classes));
  }

  forward(x: Tensor): Tensor {
    let out = this.conv1.call(x);
    for (const stage of this.stages) out = stage.call(out);
    out = this.relu.call(this.bn.call(out));
    return this.fc.call(flatten(globalAvgPool2d(out), 1));
  }

  override extraRepr(): string {
    return reprOf(this);
  }
}

/**
 * The original post-activation ResNet for small images (He et al., 2015), for comparison:
 * conv1 (3×3), bn1, relu, layer1..layer3 (or layer4, with `blocks`) of BasicBlock (or
 * Bottleneck), global average pooling and `fc`. Build it with `postActResNet`.
 */
export class PostActResNet extends Module {
  static override readonly typeName = 'PostActResNet';
  readonly depth: number;
  readonly block: ResidualBlockKind;
  /** Blocks per stage. */
  readonly blocks: readonly number[];
  readonly conv1: Conv2d;
  readonly bn1: Module;
  readonly relu: ReLU;
  /** layer1, layer2, ... in order. */
  readonly stages: readonly Sequential[];
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  /** The fourth stage, with four `blocks`; null with three. */
  readonly layer4: Sequential | null;
  readonly fc: Linear;

  constructor(options: ResNetOptions) {
    super();
    const s = settings('PostActResNet', options);
    const choice = normChoice(options);
    this.depth = s.depth;
    this.block = s.block;
    this.blocks = s.blocks;
    this.conv1 = this.registerModule('conv1', new Conv2d(s.inChannels, s.width, 3, { padding: 1, bias: convBias(choice) }));
    this.bn1 = this.registerModule('bn1', normLayer(choice, s.width));
    this.relu = this.registerModule('relu', new ReLU());
    const { layers, channels } = stages(s.block === 'basic' ? BasicBlock : Bottleneck, s, choice);
    ({ stages: this.stages, layer1: this.layer1, layer2: this.layer2, layer3: this.layer3, layer4: this.layer4 } = registerStages(this, layers));
    this.fc = this.registerModule('fc', new Linear(channels, s.classes));
  }

  forward(x: Tensor): Tensor {
    let out = this.relu.call(this.bn1.call(this.conv1.call(x)));
    for (const stage of this.stages) out = stage.call(out);
    return this.fc.call(flatten(globalAvgPool2d(out), 1));
  }

  override extraRepr(): string {
    return reprOf(this);
  }
}

/** A pre-activation ResNet of `depth` layers (see `PreActResNet` and `ResNetOptions`). */
export function preActResNet(options: ResNetOptions): PreActResNet {
  return new PreActResNet(options);
}

/** Options of `preActResNet18`: everything but the depth, the stages and the block kind. */
export type ResNet18Options = Omit<ResNetOptions, 'depth' | 'blocks' | 'block'>;

/**
 * The pre-activation ResNet-18 for 32×32 images (the CIFAR variant of He et al., 2016): conv1
 * 3×3 stride 1, then layer1..layer4 of two `PreActBlock`s each (64, 128, 256, 512 planes; strides
 * 1, 2, 2, 2), the final norm and ReLU, global average pooling and `fc`. The same as
 * `preActResNet({ depth: 18, blocks: [2, 2, 2, 2], ... })` with CIFAR-10 defaults: width 64,
 * inChannels 3, classes 10.
 */
export function preActResNet18(options: ResNet18Options = {}): PreActResNet {
  const { width = 64, inChannels = 3, classes = 10 } = options;
  return new PreActResNet({ ...options, width, inChannels, classes, depth: 18, blocks: [2, 2, 2, 2], block: 'basic' });
}

/** A post-activation ResNet of `depth` layers (see `PostActResNet` and `ResNetOptions`). */
export function postActResNet(options: ResNetOptions): PostActResNet {
  return new PostActResNet(options);
}
