// The model and optimizer a configuration names, composed from @welford/layers and core.
import { Adam, AdamW, SGD, type Optimizer, type Tensor } from '@welford/core';
import { preActResNet, smallCnn, uNet, type Module } from '@welford/layers';
import type { PlaygroundConfig } from './config.ts';

/** Builds the configuration's model with weights from core's seeded generator (seed it first). */
export function buildModel(c: PlaygroundConfig, classes: number, inChannels: number): Module<[Tensor], Tensor> {
  const { width: w, norm, groups } = c;
  switch (c.model) {
    case 'cnn':
      return smallCnn({ inChannels, classes, widths: [w, 2 * w, 2 * w], norm, groups });
    case 'resnet':
      return preActResNet({ depth: c.depth, width: w, classes, inChannels, norm, groups });
    case 'unet':
      return uNet({ depth: c.depth, baseWidth: w, inChannels, outChannels: classes, norm, groups });
  }
}

/** SGD with momentum 0.9 and L2 decay, Adam (L2 added to the gradient) or AdamW (decoupled decay). */
export function buildOptimizer(c: PlaygroundConfig, params: readonly Tensor[]): Optimizer {
  const { lr, weightDecay } = c;
  if (c.optimizer === 'sgd') return new SGD(params, { lr, momentum: 0.9, weightDecay });
  return c.optimizer === 'adam' ? new Adam(params, { lr, weightDecay }) : new AdamW(params, { lr, weightDecay });
}
