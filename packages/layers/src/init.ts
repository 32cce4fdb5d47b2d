import { fromArray, rand, randn, type Shape, type Tensor } from '@welford/core';

// PyTorch's default initialisations, drawn from the global generator (`manualSeed`), so a
// seeded model is reproducible. fan_in is computed as torch.nn.init does: dimension 1 times
// the receptive field (for ConvTranspose2d's [in, out/groups, kh, kw] weight that is out/groups·kh·kw).

/** torch.nn.init's fan_in of a weight of this shape. */
export function fanIn(shape: Shape): number {
  if (shape.length < 2) throw new Error(`fanIn: needs a weight with at least 2 dimensions, got shape [${shape.join(', ')}]`);
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

/** U(−bound, bound). */
export function uniform(shape: Shape, bound: number): Tensor {
  return rand(shape, { low: -bound, high: bound });
}

/**
 * `kaiming_uniform_(w, a=sqrt(5))`, the default of Linear and Conv layers: U(−b, b) with
 * b = gain·sqrt(3 / fan_in), gain = sqrt(2 / (1 + a²)), which is b = 1 / sqrt(fan_in).
 */
export function defaultWeight(shape: Shape): Tensor {
  return uniform(shape, 1 / Math.sqrt(fanIn(shape)));
}

/** The default bias of Linear and Conv layers: U(−1/sqrt(fan_in), 1/sqrt(fan_in)) with the weight's fan_in. */
export function defaultBias(length: number, weightShape: Shape): Tensor {
  const fan = fanIn(weightShape);
  return uniform([length], fan > 0 ? 1 / Math.sqrt(fan) : 0);
}

/** `kaiming_normal_(w, mode='fan_out', nonlinearity='relu')`, as torchvision's ResNets initialise convolutions. */
export function kaimingNormalFanOut(shape: Shape): Tensor {
  const fanOut = shape[0] * shape.slice(2).reduce((a, b) => a * b, 1);
  return randn(shape, { std: Math.sqrt(2 / fanOut) });
}

/** N(0, 1), Embedding's default. */
export function standardNormal(shape: Shape): Tensor {
  return randn(shape);
}

/** A tensor filled with `value`. */
export function constant(shape: Shape, value: number): Tensor {
  return fromArray(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value), shape);
}
