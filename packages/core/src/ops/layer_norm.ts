import type { Tensor } from '../tensor/tensor.ts';
import type { Grouping } from '../kernels/norm.ts';
import { shapeToString } from '../util/shape.ts';
import { commonBackend } from './dispatch.ts';
import { checkAffine, checkGroupingInput, checkNormOptions, emptyNorm, normalize, normStatistics, registerNorm } from './norm.ts';

registerNorm('layerNorm');

export interface LayerNormOptions {
  /** γ, of the normalized shape (default 1). */
  weight?: Tensor;
  /** β, of the normalized shape (default 0). */
  bias?: Tensor;
  /** Added to the variance inside the square root (default 1e-5). */
  eps?: number;
  /** Applies ReLU to the result in the same pass (default false). */
  relu?: boolean;
}

/**
 * Layer normalization, as torch.nn.functional.layer_norm: the trailing dims of the input that
 * match `normalizedShape` are normalized together, per index of the leading dims, with their
 * mean and biased variance; then y = γ·x̂ + β elementwise over the normalized shape.
 * `relu` fuses a ReLU into the same pass.
 */
export function layerNorm(input: Tensor, normalizedShape: readonly number[], options: LayerNormOptions = {}): Tensor {
  const op = 'layerNorm';
  const { weight, bias, eps = 1e-5, relu = false } = options;
  if (!Array.isArray(normalizedShape) || normalizedShape.length === 0) {
    throw new Error(`${op}: Expected normalizedShape to be at least 1-dimensional, i.e., containing at least one element, but got normalizedShape = ${Array.isArray(normalizedShape) ? shapeToString(normalizedShape) : String(normalizedShape)}`);
  }
  const k = normalizedShape.length;
  const trailing = input.shape.slice(Math.max(input.rank - k, 0));
  if (input.rank < k || normalizedShape.some((d, i) => d !== trailing[i])) {
    throw new Error(`${op}: Given normalizedShape=${shapeToString(normalizedShape)}, expected input with shape [*, ${normalizedShape.join(', ')}], but got input of size ${shapeToString(input.shape)}`);
  }
  const grouping: Grouping = { kind: 'layer', normalizedRank: k };
  checkGroupingInput(op, input.shape, grouping);
  checkNormOptions(op, eps, relu);
  checkAffine(op, 'weight', weight?.shape, input.shape, grouping);
  checkAffine(op, 'bias', bias?.shape, input.shape, grouping);
  commonBackend(op, [input, weight, bias].filter((t): t is Tensor => t !== undefined));
  if (input.size === 0) return emptyNorm(input);
  const stats = normStatistics(input, grouping);
  return normalize(op, input, stats, weight, bias, { grouping, eps, relu, batchStats: true, renorm: false, hasWeight: !!weight, hasBias: !!bias });
}
