import type { Tensor } from '../tensor/tensor.ts';
import type { Grouping } from '../kernels/norm.ts';
import { shapeToString, sizeOf } from '../util/shape.ts';
import { commonBackend } from './dispatch.ts';
import { checkAffine, checkGroupingInput, checkNormOptions, emptyNorm, normalize, normStatistics, registerNorm } from './norm.ts';

registerNorm('groupNorm');
registerNorm('instanceNorm');

export interface GroupNormOptions {
  /** γ [C] (default 1). */
  weight?: Tensor;
  /** β [C] (default 0). */
  bias?: Tensor;
  /** Added to the variance inside the square root (default 1e-5). */
  eps?: number;
  /** Applies ReLU to the result in the same pass (default false). */
  relu?: boolean;
}

export type InstanceNormOptions = GroupNormOptions;

/** Checks, then normalizes per group with the input's own statistics. */
function normalizeGroups(op: string, input: Tensor, grouping: Grouping, options: GroupNormOptions): Tensor {
  const { weight, bias, eps = 1e-5, relu = false } = options;
  checkNormOptions(op, eps, relu);
  checkAffine(op, 'weight', weight?.shape, input.shape, grouping);
  checkAffine(op, 'bias', bias?.shape, input.shape, grouping);
  commonBackend(op, [input, weight, bias].filter((t): t is Tensor => t !== undefined));
  if (input.size === 0) return emptyNorm(input);
  const stats = normStatistics(input, grouping);
  return normalize(op, input, stats, weight, bias, { grouping, eps, relu, batchStats: true, renorm: false, hasWeight: !!weight, hasBias: !!bias });
}

/**
 * Group normalization, as torch.nn.functional.group_norm: the C channels of an input (N, C, ...)
 * are split into numGroups groups, and each (sample, group) is normalized with its own mean and
 * biased variance over the group's channels and positions; then y = γ·x̂ + β per channel.
 * Independent of the batch size. `relu` fuses a ReLU into the same pass.
 */
export function groupNorm(input: Tensor, numGroups: number, options: GroupNormOptions = {}): Tensor {
  if (!Number.isInteger(numGroups) || numGroups < 1) throw new Error(`groupNorm: numGroups must be a positive integer, got ${String(numGroups)}`);
  const grouping: Grouping = { kind: 'group', numGroups };
  checkGroupingInput('groupNorm', input.shape, grouping);
  return normalizeGroups('groupNorm', input, grouping, options);
}

/**
 * Instance normalization, as torch.nn.functional.instance_norm without running statistics: each
 * (sample, channel) of an input (N, C, L) or (N, C, H, W) is normalized over its positions (group
 * norm with one channel per group); then y = γ·x̂ + β per channel.
 */
export function instanceNorm(input: Tensor, options: InstanceNormOptions = {}): Tensor {
  if (input.rank < 3) throw new Error(`instanceNorm: expected an input of shape (N, C, L) or (N, C, H, W) with at least 3 dims, got ${shapeToString(input.shape)}`);
  if (sizeOf(input.shape.slice(2)) === 1) {
    throw new Error(`instanceNorm: Expected more than 1 spatial element when training, got input size ${shapeToString(input.shape)}`);
  }
  const grouping: Grouping = { kind: 'group', numGroups: Math.max(input.shape[1], 1) };
  checkGroupingInput('instanceNorm', input.shape, grouping);
  return normalizeGroups('instanceNorm', input, grouping, options);
}
