import { relu, sigmoid, tanh, type Tensor } from '@welford/core';
import { Module } from '../module/module.ts';

/** max(x, 0) elementwise (`torch.nn.ReLU`). */
export class ReLU extends Module {
  static override readonly typeName = 'ReLU';
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** 1 / (1 + e^−x) elementwise (`torch.nn.Sigmoid`). */
export class Sigmoid extends Module {
  static override readonly typeName = 'Sigmoid';
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** tanh(x) elementwise (`torch.nn.Tanh`). */
export class Tanh extends Module {
  static override readonly typeName = 'Tanh';
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** Returns its input itself (`torch.nn.Identity`): a placeholder where a layer is optional. */
export class Identity extends Module {
  static override readonly typeName = 'Identity';
  forward(x: Tensor): Tensor {
    return x;
  }
}
