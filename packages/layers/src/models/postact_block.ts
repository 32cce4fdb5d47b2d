import { add, relu, type Tensor } from '@welford/core';
import { ReLU } from '../layers/activation.ts';
import { Conv2d } from '../layers/conv2d.ts';
import type { Module } from '../module/module.ts';
import { Sequential } from '../module/sequential.ts';
import { normLayer, type NormChoice } from './norm_choice.ts';
import { ResidualBlock, type BlockOptions } from './residual_block.ts';

/** The projection shortcut of post-activation blocks: Sequential(1×1 strided conv without bias, norm). */
function projection(choice: Required<NormChoice>, inPlanes: number, outPlanes: number, stride: number): Sequential {
  return new Sequential(new Conv2d(inPlanes, outPlanes, 1, { stride, bias: false }), normLayer(choice, outPlanes));
}

/**
 * The original (post-activation) residual block of He et al. (2015), as torchvision's
 * BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), with the ReLU after the
 * addition. The shortcut is x, or Sequential(1×1 strided conv, norm) when the shape changes.
 * Children: conv1 (3×3, stride), bn1, relu1, conv2 (3×3), bn2, shortcut.
 */
export class BasicBlock extends ResidualBlock {
  static override readonly typeName = 'BasicBlock';
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: Module;
  readonly relu1: ReLU;
  readonly conv2: Conv2d;
  readonly bn2: Module;
  readonly shortcut: Sequential | null;

  constructor(inPlanes: number, planes: number, options: BlockOptions = {}) {
    super(inPlanes, planes, BasicBlock.expansion, options);
    const { choice, convBias: bias, stride } = this;
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias }));
    this.bn1 = this.registerModule('bn1', normLayer(choice, planes));
    this.relu1 = this.registerModule('relu1', new ReLU());
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { padding: 1, bias }));
    this.bn2 = this.registerModule('bn2', normLayer(choice, planes));
    this.shortcut = this.projects ? this.registerModule('shortcut', projection(choice, inPlanes, planes, stride)) : null;
  }

  forward(x: Tensor): Tensor {
    const out = this.bn2.call(this.conv2.call(this.relu1.call(this.bn1.call(this.conv1.call(x)))));
    return relu(add(out, this.shortcut ? this.shortcut.call(x) : x));
  }
}

/**
 * The post-activation bottleneck block (expansion 4), as torchvision's Bottleneck with the
 * stride on the 3×3 convolution: conv1 1×1, bn1, ReLU, conv2 3×3, bn2, ReLU, conv3 1×1 to
 * 4·planes, bn3, then ReLU after adding the shortcut. Children: conv1, bn1, relu1, conv2, bn2,
 * relu2, conv3, bn3, shortcut.
 */
export class Bottleneck extends ResidualBlock {
  static override readonly typeName = 'Bottleneck';
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: Module;
  readonly relu1: ReLU;
  readonly conv2: Conv2d;
  readonly bn2: Module;
  readonly relu2: ReLU;
  readonly conv3: Conv2d;
  readonly bn3: Module;
  readonly shortcut: Sequential | null;

  constructor(inPlanes: number, planes: number, options: BlockOptions = {}) {
    super(inPlanes, planes, Bottleneck.expansion, options);
    const { choice, convBias: bias, stride, outPlanes } = this;
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, planes, 1, { bias }));
    this.bn1 = this.registerModule('bn1', normLayer(choice, planes));
    this.relu1 = this.registerModule('relu1', new ReLU());
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { stride, padding: 1, bias }));
    this.bn2 = this.registerModule('bn2', normLayer(choice, planes));
    this.relu2 = this.registerModule('relu2', new ReLU());
    this.conv3 = this.registerModule('conv3', new Conv2d(planes, outPlanes, 1, { bias }));
    this.bn3 = this.registerModule('bn3', normLayer(choice, outPlanes));
    this.shortcut = this.projects ? this.registerModule('shortcut', projection(choice, inPlanes, outPlanes, stride)) : null;
  }

  forward(x: Tensor): Tensor {
    let out = this.relu1.call(this.bn1.call(this.conv1.call(x)));
    out = this.relu2.call(this.bn2.call(this.conv2.call(out)));
    out = this.bn3.call(this.conv3.call(out));
    return relu(add(out, this.shortcut ? this.shortcut.call(x) : x));
  }
}
