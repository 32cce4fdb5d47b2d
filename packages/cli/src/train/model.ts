// The model a configuration names, built from @welford/layers (browser-safe).
import type { Tensor } from '@welford/core';
import { preActResNet, smallCnn, uNet, type Module, type NormKind } from '@welford/layers';
import { DATASET_INFO, SMALL_CNN_DEPTH, type NormName, type TrainConfig } from './config.ts';

/** The layers' name of a command-line norm (`batch-renorm` is `createNorm`'s 'batchrenorm'). */
export function normKind(norm: NormName): NormKind {
  return norm === 'batch-renorm' ? 'batchrenorm' : norm;
}

/**
 * Builds the configuration's model with fresh weights from core's seeded generator (seed it
 * first with `manualSeed(config.seed)`): small-cnn (depth stages of widths w, 2w, 2w, 4w, ...), preact-resnet (depth,
 * width) or unet (depth, base width w), with the chosen norm, one input channel and as many
 * outputs as the dataset has classes.
 */
export function buildModel(config: TrainConfig): Module<[Tensor], Tensor> {
  const { width: w, groups } = config;
  const norm = normKind(config.norm);
  const classes = DATASET_INFO[config.dataset].classes;
  switch (config.model) {
    case 'small-cnn':
      return smallCnn({ inChannels: 1, classes, depth: config.depth ?? SMALL_CNN_DEPTH, width: w, norm, groups });
    case 'preact-resnet':
      return preActResNet({ depth: config.depth ?? 8, width: w, classes, inChannels: 1, norm, groups });
    case 'unet':
      return uNet({ depth: config.depth ?? 3, baseWidth: w, inChannels: 1, outChannels: classes, norm, groups });
  }
}
