import type { Tensor } from '@welford/core';
import { Identity } from '../layers/activation.ts';
import type { Module } from '../module/module.ts';
import { BatchNorm2d } from './batch_norm.ts';
import { BatchRenorm2d } from './batch_renorm.ts';
import { GroupNorm } from './group_norm.ts';
import { InstanceNorm2d } from './instance_norm.ts';
import { rejectFusedRelu } from './options.ts';

/** The normalizations `createNorm` builds, by the statistics they average. */
export const NORM_KINDS = ['batch', 'group', 'layer', 'instance', 'batchrenorm', 'none'] as const;

export type NormKind = (typeof NORM_KINDS)[number];

/** Whether `s` names a norm kind (e.g. a command-line or playground choice). */
export function isNormKind(s: unknown): s is NormKind {
  return typeof s === 'string' && (NORM_KINDS as readonly string[]).includes(s);
}

export interface CreateNormOptions {
  /** Groups of channels for 'group' (default 8); must divide the channel count. */
  groups?: number;
  /** eps of the layer (its default when left out). */
  eps?: number;
  /** momentum of 'batch' (null allowed), 'instance' and 'batchrenorm' (their default when left out). */
  momentum?: number | null;
  /** Bounds and warm-up of 'batchrenorm' (BatchRenorm2d's defaults when left out). */
  rmax?: number;
  dmax?: number;
  warmupSteps?: number;
}

/**
 * A normalization layer for (N, C, H, W) activations with C = `channels`:
 * - 'batch': BatchNorm2d(C), per channel over (N, H, W);
 * - 'group': GroupNorm(groups, C), per sample and group of C/groups channels;
 * - 'layer': GroupNorm(1, C), per sample over (C, H, W) with a per-channel scale and shift: the
 *   usual layer norm of CNNs. (LayerNorm([C, H, W]) would need the spatial size up front and
 *   learn an affine per position.)
 * - 'instance': InstanceNorm2d(C, {affine: true}), per sample and channel over (H, W);
 * - 'batchrenorm': BatchRenorm2d(C);
 * - 'none': Identity.
 * Options that do not concern the kind are ignored. A ReLU module after the norm runs in the
 * norm's own kernel pass (the fusion sits below the module layer).
 */
export function createNorm(kind: NormKind, channels: number, options: CreateNormOptions = {}): Module<[Tensor], Tensor> {
  rejectFusedRelu('createNorm', options);
  const { groups = 8, eps, momentum, rmax, dmax, warmupSteps } = options;
  if (momentum === null && (kind === 'instance' || kind === 'batchrenorm')) throw new Error(`createNorm: momentum null (a cumulative average) is only for 'batch' norm, got it for '${kind}'`);
  switch (kind) {
    case 'batch':
      return new BatchNorm2d(channels, { eps, momentum });
    case 'group':
      if (!Number.isInteger(groups) || groups < 1) throw new Error(`createNorm: groups must be a positive integer, got ${String(groups)}`);
      if (!Number.isInteger(channels) || channels % groups !== 0) {
        throw new Error(`createNorm: 'group' norm needs the channel count to be divisible by groups, got ${channels} channels and ${groups} groups`);
      }
      return new GroupNorm(groups, channels, { eps });
    case 'layer':
      return new GroupNorm(1, channels, { eps });
    case 'instance':
      return new InstanceNorm2d(channels, { eps, momentum: momentum ?? undefined, affine: true });
    case 'batchrenorm':
      return new BatchRenorm2d(channels, { eps, momentum: momentum ?? undefined, rmax, dmax, warmupSteps });
    case 'none':
      return new Identity();
    default:
      throw new Error(`createNorm: unknown norm kind ${JSON.stringify(kind)}; expected one of ${NORM_KINDS.join(', ')}`);
  }
}
