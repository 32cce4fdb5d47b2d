import type { Tensor } from '@welford/core';
import type { Module } from '../module/module.ts';
import { createNorm, type NormKind } from '../norm/factory.ts';

/** Which normalization a model puts after (or, pre-activation, before) its convolutions. */
export interface NormChoice {
  /** The normalization layer (default 'batch'); 'none' puts an identity there and gives the convolutions a bias. */
  norm?: NormKind;
  /** Groups for norm 'group' (default 8). */
  groups?: number;
}

/** The norm layer of a model's choice over `channels` channels. */
export function normLayer(choice: Required<NormChoice>, channels: number): Module<[Tensor], Tensor> {
  return createNorm(choice.norm, channels, { groups: choice.groups });
}

/** The choice with its defaults filled in. */
export function normChoice({ norm = 'batch', groups = 8 }: NormChoice): Required<NormChoice> {
  return { norm, groups };
}

/** Convolutions followed by a norm learn no bias (the norm's shift replaces it), unless there is no norm. */
export function convBias(choice: Required<NormChoice>): boolean {
  return choice.norm === 'none';
}
