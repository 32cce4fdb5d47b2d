import type { Tensor } from '@welford/core';
import {
  BatchNormBase,
  BatchRenorm2d,
  ConditionalBatchNorm2d,
  GroupNorm,
  InstanceNormBase,
  LayerNorm,
  ReLU,
  type AnyModule,
} from '@welford/layers';

/** What the probes need to know about a normalization layer. */
export interface NormTarget {
  kind: 'norm';
  /** The axis of the input that holds channels (the statistics are per index of it). */
  channelAxis(x: Tensor): number;
  /** Added to the variance by the layer (scales the covariate shift). */
  eps: number;
  /** Running mean and variance buffers, when the layer tracks them. */
  running: [Tensor, Tensor] | null;
  /**
   * The scale and shift as stored: per channel, or for conditional batch norm the embedding
   * [classes, 2·C] that holds γ and β per class (`perClass`).
   */
  weight: Tensor | null;
  bias: Tensor | null;
  perClass: boolean;
}

/**
 * A ReLU module: its output's statistics and dead fraction. Models put one after each norm,
 * so a norm's output is pre-ReLU and the ReLU module is where the dead fraction is measured.
 */
export interface ReluTarget {
  kind: 'relu';
}

export type Target = NormTarget | ReluTarget;

/** Channels are axis 1 of the (N, C, ...) inputs these layers accept. */
const axisOne = (): number => 1;

/** How a module is probed, or null when it is neither a normalization layer nor a ReLU. */
export function targetOf(m: AnyModule): Target | null {
  if (m instanceof ReLU) return { kind: 'relu' };
  if (m instanceof BatchNormBase || m instanceof InstanceNormBase) {
    const running: [Tensor, Tensor] | null = m.runningMean && m.runningVar ? [m.runningMean, m.runningVar] : null;
    return { kind: 'norm', channelAxis: axisOne, eps: m.eps, running, weight: m.weight, bias: m.bias, perClass: false };
  }
  if (m instanceof BatchRenorm2d) {
    return { kind: 'norm', channelAxis: axisOne, eps: m.eps, running: [m.runningMean, m.runningVar], weight: m.weight, bias: m.bias, perClass: false };
  }
  if (m instanceof GroupNorm) {
    return { kind: 'norm', channelAxis: axisOne, eps: m.eps, running: null, weight: m.weight, bias: m.bias, perClass: false };
  }
  if (m instanceof LayerNorm) {
    // The first normalized dimension: the features of [N, T, D] with normalizedShape [D], the
    // channels of [N, C, H, W] with normalizedShape [C, H, W].
    const dims = m.normalizedShape.length;
    return { kind: 'norm', channelAxis: (x) => Math.max(0, x.rank - dims), eps: m.eps, running: null, weight: m.weight, bias: m.bias, perClass: false };
  }
  if (m instanceof ConditionalBatchNorm2d) {
    // Its child `bn` (a BatchNorm2d) is probed on its own, running statistics included.
    return { kind: 'norm', channelAxis: axisOne, eps: m.bn.eps, running: null, weight: m.embed.weight, bias: null, perClass: true };
  }
  return null;
}
