import { add, relu, type Tensor } from '@welford/core';
import { checkPositiveInt } from '../checks.ts';
import { Conv2d } from '../layers/conv2d.ts';
import { Module } from '../module/module.ts';
import { Sequential } from '../module/sequential.ts';
import { convBias, normChoice, normLayer, type NormChoice } from './norm_choice.ts';
import type { BlockOptions } from './preact_block.ts';

/** The projection shortcut of post-activation blocks: Sequential(1×1 strided conv without bias, norm). */
function projection(choice: Required<NormChoice>, inPlanes: number, outPlanes: number, stride: number): Sequential {
  return new Sequential(new Conv2d(inPlanes, outPlanes, 1, { stride, bias: false }), normLayer(choice, outPlanes));
}

/**
 * The original (post-activation) residual block of He et al. (2015), as torchvision's
 * BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), with the ReLU after the
 * addition. The shortcut is x, or Sequential(1×1 strided conv, norm) when the shape changes.
 * Children: conv1 (3×3, stride), bn1, conv2 (3×3), bn2, shortcut.
 */
export class BasicBlock extends Module {
  static readonly expansion = 1;
  readonly inPlanes: number;
  readonly planes: number;
  readonly outPlanes: number;
  readonly stride: number;
  readonly conv1: Conv2d;
  readonly bn1: Module;
  readonly conv2: Conv2d;
  readonly bn2: Module;
  readonly shortcut: Sequential | null;

  constructor(inPlanes: number, planes: number, options: BlockOptions = {}) {
    super();
    checkPositiveInt('BasicBlock', 'inPlanes', inPlanes);
    checkPositiveInt('BasicBlock', 'planes', planes);
    const { stride = 1 } = options;
    checkPositiveInt('BasicBlock', 'stride', stride);
    const choice = normChoice(options);
    const bias = convBias(choice);
    this.inPlanes = inPlanes;
    this.planes = planes;
    this.outPlanes = planes;
    this.stride = stride;
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias }));
    this.bn1 = this.registerModule('bn1', normLayer(choice, planes));
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { padding: 1, bias }));
    this.bn2 = this.registerModule('bn2', normLayer(choice, planes));
    const project = stride !== 1 || inPlanes !== planes;
    this.shortcut = project ? this.registerModule('shortcut', projection(choice, inPlanes, planes, stride)) : null;
  }

  forward(x: Tensor): Tensor {
    const out = this.bn2.call(this.conv2.call(relu(this.bn1.call(this.conv1.call(x)))));
    return relu(add(out, this.shortcut ? this.shortcut.call(x) : x));
  }

  override extraRepr(): string {
    return `${this.inPlanes}, ${this.planes}, stride=${this.stride}`;
  }
}

/**
 * The post-activation bottleneck block (expansion 4), as torchvision's Bottleneck with the
 * stride on the 3×3 convolution: conv1 1×1, bn1, ReLU, conv2 3×3, bn2, ReLU, conv3 1×1 to
 * 4·planes, bn3, then ReLU after adding the shortcut. Children: conv1, bn1, conv2, bn2, conv3,
 * bn3, shortcut.
 */
export class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly inPlanes: number;
  readonly planes: number;
  readonly outPlanes: number;
  readonly stride: number;
  readonly conv1: Conv2d;
  readonly bn1: Module;
  readonly conv2: Conv2d;
  readonly bn2: Module;
  readonly conv3: Conv2d;
  readonly bn3: Module;
  readonly shortcut: Sequential | null;

  constructor(inPlanes: number, planes: number, options: BlockOptions = {}) {
    super();
    checkPositiveInt('Bottleneck', 'inPlanes', inPlanes);
    checkPositiveInt('Bottleneck', 'planes', planes);
    const { stride = 1 } = options;
    checkPositiveInt('Bottleneck', 'stride', stride);
    const choice = normChoice(options);
    const bias = convBias(choice);
    this.inPlanes = inPlanes;
    this.planes = planes;
    this.outPlanes = planes * Bottleneck.expansion;
    this.stride = stride;
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, planes, 1, { bias }));
    this.bn1 = this.registerModule('bn1', normLayer(choice, planes));
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { stride, padding: 1, bias }));
    this.bn2 = this.registerModule('bn2', normLayer(choice, planes));
    this.conv3 = this.registerModule('conv3', new Conv2d(planes, this.outPlanes, 1, { bias }));
    this.bn3 = this.registerModule('bn3', normLayer(choice, this.outPlanes));
    const project = stride !== 1 || inPlanes !== this.outPlanes;
    this.shortcut = project ? this.registerModule('shortcut', projection(choice, inPlanes, this.outPlanes, stride)) : null;
  }

  forward(x: Tensor): Tensor {
    let out = relu(this.bn1.call(this.conv1.call(x)));
    out = relu(this.bn2.call(this.conv2.call(out)));
    out = this.bn3.call(this.conv3.call(out));
    return relu(add(out, this.shortcut ? this.shortcut.call(x) : x));
  }

  override extraRepr(): string {
    return `${this.inPlanes}, ${this.planes}, stride=${this.stride}`;
  }
}
