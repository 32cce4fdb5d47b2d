import { add, type Tensor } from '@welford/core';
import { ReLU } from '../layers/activation.ts';
import { Conv2d } from '../layers/conv2d.ts';
import type { Module } from '../module/module.ts';
import { normLayer } from './norm_choice.ts';
import { ResidualBlock, type BlockOptions } from './residual_block.ts';

/**
 * The full pre-activation residual block of He et al. (2016), "Identity Mappings in Deep
 * Residual Networks": out = conv2(relu(bn2(conv1(relu(bn1(x)))))) + shortcut. The shortcut is
 * x itself, or a 1×1 convolution (with the stride, no bias) of relu(bn1(x)) when the shape
 * changes. Nothing follows the addition, so the identity path stays clean through depth.
 * Children: bn1, relu1, conv1 (3×3, stride), bn2, relu2, conv2 (3×3), shortcut; the norms are
 * named bn* whatever their kind.
 */
export class PreActBlock extends ResidualBlock {
  static override readonly typeName = 'PreActBlock';
  /** Output channels per `planes`. */
  static readonly expansion = 1;
  readonly bn1: Module;
  readonly relu1: ReLU;
  readonly conv1: Conv2d;
  readonly bn2: Module;
  readonly relu2: ReLU;
  readonly conv2: Conv2d;
  readonly shortcut: Conv2d | null;

  constructor(inPlanes: number, planes: number, options: BlockOptions = {}) {
    super(inPlanes, planes, PreActBlock.expansion, options);
    const { choice, convBias: bias, stride } = this;
    this.bn1 = this.registerModule('bn1', normLayer(choice, inPlanes));
    this.relu1 = this.registerModule('relu1', new ReLU());
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias }));
    this.bn2 = this.registerModule('bn2', normLayer(choice, planes));
    this.relu2 = this.registerModule('relu2', new ReLU());
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { padding: 1, bias }));
    this.shortcut = this.projects ? this.registerModule('shortcut', new Conv2d(inPlanes, planes, 1, { stride, bias: false })) : null;
  }

  forward(x: Tensor): Tensor {
    const pre = this.relu1.call(this.bn1.call(x));
    const shortcut = this.shortcut ? this.shortcut.call(pre) : x;
    const out = this.conv2.call(this.relu2.call(this.bn2.call(this.conv1.call(pre))));
    return add(out, shortcut);
  }
}

/**
 * The pre-activation bottleneck block (expansion 4): 1×1 conv to `planes`, 3×3 conv with the
 * stride, 1×1 conv to 4·planes, each preceded by norm and ReLU; plus the shortcut (x, or a
 * strided 1×1 convolution of relu(bn1(x)) when the shape changes). Children: bn1, relu1, conv1,
 * bn2, relu2, conv2, bn3, relu3, conv3, shortcut.
 */
export class PreActBottleneck extends ResidualBlock {
  static override readonly typeName = 'PreActBottleneck';
  static readonly expansion = 4;
  readonly bn1: Module;
  readonly relu1: ReLU;
  readonly conv1: Conv2d;
  readonly bn2: Module;
  readonly relu2: ReLU;
  readonly conv2: Conv2d;
  readonly bn3: Module;
  readonly relu3: ReLU;
  readonly conv3: Conv2d;
  readonly shortcut: Conv2d | null;

  constructor(inPlanes: number, planes: number, options: BlockOptions = {}) {
    super(inPlanes, planes, PreActBottleneck.expansion, options);
    const { choice, convBias: bias, stride, outPlanes } = this;
    this.bn1 = this.registerModule('bn1', normLayer(choice, inPlanes));
    this.relu1 = this.registerModule('relu1', new ReLU());
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, planes, 1, { bias }));
    this.bn2 = this.registerModule('bn2', normLayer(choice, planes));
    this.relu2 = this.registerModule('relu2', new ReLU());
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { stride, padding: 1, bias }));
    this.bn3 = this.registerModule('bn3', normLayer(choice, planes));
    this.relu3 = this.registerModule('relu3', new ReLU());
    this.conv3 = this.registerModule('conv3', new Conv2d(planes, outPlanes, 1, { bias }));
    this.shortcut = this.projects ? this.registerModule('shortcut', new Conv2d(inPlanes, outPlanes, 1, { stride, bias: false })) : null;
  }

  forward(x: Tensor): Tensor {
    const pre = this.relu1.call(this.bn1.call(x));
    const shortcut = this.shortcut ? this.shortcut.call(pre) : x;
    let out = this.conv1.call(pre);
    out = this.conv2.call(this.relu2.call(this.bn2.call(out)));
    out = this.conv3.call(this.relu3.call(this.bn3.call(out)));
    return add(out, shortcut);
  }
}
