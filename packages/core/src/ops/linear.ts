import type { Tensor } from '../tensor/tensor.ts';
import { shapeToString } from '../util/shape.ts';
import { runOp } from './dispatch.ts';

function checkLinear(input: Tensor, weight: Tensor, bias: Tensor | undefined): void {
  if (weight.rank !== 2) {
    throw new Error(`linear: expected weight of shape [out_features, in_features], got ${shapeToString(weight.shape)}`);
  }
  const [outFeatures, inFeatures] = weight.shape;
  if (input.rank === 0) {
    throw new Error(`linear: expected input of shape [..., ${inFeatures}], got a 0-d tensor (shape [])`);
  }
  if (input.shape[input.rank - 1] !== inFeatures) {
    throw new Error(
      `linear: input of shape ${shapeToString(input.shape)} and weight of shape ${shapeToString(weight.shape)} cannot be multiplied: ` +
        `the input's last dimension (${input.shape[input.rank - 1]}) must equal in_features (${inFeatures})`,
    );
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outFeatures)) {
    throw new Error(`linear: expected bias of shape [${outFeatures}] (out_features of weight ${shapeToString(weight.shape)}), got ${shapeToString(bias.shape)}`);
  }
}

/**
 * A fully connected layer, as torch.nn.functional.linear: `input · weightᵀ + bias` for input
 * [..., in_features], weight [out_features, in_features] and bias [out_features], giving
 * [..., out_features] (a 1-D input gives [out_features]). The weight is read transposed in
 * place, with no copy; the weight gradient is one product over all leading dimensions.
 */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  checkLinear(input, weight, bias);
  // The bias is added as the product is written: one pass over the output.
  return runOp('matmul', bias ? [input, weight, bias] : [input, weight], { transA: false, transB: true });
}
