import { assign, div, matmul, maximum, mul, noGrad, permute, randn, reshape, sqrt, square, sum, tidy, type Tensor } from '@welford/core';
import { checkNumber, checkPositiveInt } from '../checks.ts';
import type { WeightedLayer } from '../layers/weighted.ts';

export interface SpectralNormOptions {
  /** Power-iteration steps per training forward (default 1). */
  nPowerIterations?: number;
  /** Lower bound of the norms that u and v are divided by (default 1e-12). */
  eps?: number;
}

interface Settings {
  readonly nPowerIterations: number;
  readonly eps: number;
}

// Layers under spectral norm and their settings.
const applied = new WeakMap<WeightedLayer, Settings>();

/** The weight as a matrix [size of outputDim, rest], outputDim first (ConvTranspose2d's weight is [in, out, kh, kw]). */
function weightMatrix(weight: Tensor, dim: number): Tensor {
  const rows = weight.shape[dim];
  if (dim === 0) return reshape(weight, [rows, weight.size / rows]);
  const order = [dim, ...weight.shape.map((_, i) => i).filter((i) => i !== dim)];
  return reshape(permute(weight, order), [rows, weight.size / rows]);
}

/** x / max(‖x‖, eps), as torch.nn.functional.normalize. */
function normalize(x: Tensor, eps: number): Tensor {
  return div(x, maximum(sqrt(sum(square(x))), eps));
}

/**
 * The normalized weight W / σ with σ = uᵀ W_mat v. In training the power iteration first
 * refines u and v in place (no gradient); σ then uses copies of them, so a later forward
 * that moves the buffers does not change this one's backward. The gradient reaches
 * `weightOrig` through W and through σ, u and v held constant, as in PyTorch.
 */
function normalizedWeight(layer: WeightedLayer, { nPowerIterations, eps }: Settings, powerIteration: boolean): Tensor {
  const weight = layer.getParameter('weightOrig')!;
  const u = layer.getBuffer('weightU')!;
  const v = layer.getBuffer('weightV')!;
  const mat = weightMatrix(weight, layer.outputDim);
  if (powerIteration) {
    tidy(() =>
      noGrad(() => {
        let uk = u;
        let vk = v;
        for (let i = 0; i < nPowerIterations; i++) {
          vk = normalize(matmul(uk, mat), eps); // W_matᵀ u
          uk = normalize(matmul(mat, vk), eps);
        }
        assign(v, vk);
        assign(u, uk);
      }),
    );
  }
  const [uc, vc] = noGrad(() => [mul(u, 1), mul(v, 1)]);
  const sigma = sum(mul(uc, matmul(mat, vc)));
  return div(weight, sigma);
}

/**
 * Spectral normalization of a layer's weight, like the classic `torch.nn.utils.spectral_norm`:
 * every forward uses W = weightOrig / σ, where σ, the largest singular value of the weight as a
 * matrix [out, in·kh·kw] (output dimension first), is estimated by power iteration.
 *
 * The layer's parameter `weight` becomes the parameter `weightOrig` (the same tensor: after
 * this, `layer.weight` is the unnormalized weight, not what forward uses), and buffers `weightU`
 * [out] and `weightV` [in·kh·kw] hold the singular-vector estimates, initialised from
 * normalized N(0, 1) draws of the global generator. In training each forward first runs
 * `nPowerIterations` steps v ← normalize(W_matᵀ u), u ← normalize(W_mat v) and stores u, v in
 * place; in evaluation the stored u, v are used as they are. Returns the layer.
 */
export function spectralNorm<L extends WeightedLayer>(layer: L, { nPowerIterations = 1, eps = 1e-12 }: SpectralNormOptions = {}): L {
  checkPositiveInt('spectralNorm', 'nPowerIterations', nPowerIterations);
  checkNumber('spectralNorm', 'eps', eps);
  if (!(eps > 0)) throw new Error(`spectralNorm: eps must be a positive finite number, got ${eps}`);
  if (applied.has(layer) || layer.hasWeightTransform) throw new Error(`spectralNorm: ${layer.typeName} already has a weight transform (spectral norm is applied once)`);
  const weight = layer.getParameter('weight');
  if (!weight) throw new Error(`spectralNorm: ${layer.typeName} has no weight`);
  const rows = weight.shape[layer.outputDim];
  const settings: Settings = { nPowerIterations, eps };
  const [u, v] = tidy(() => noGrad(() => [normalize(randn([rows]), eps), normalize(randn([weight.size / rows]), eps)]));
  layer.removeParameter('weight');
  layer.registerParameter('weightOrig', weight);
  layer.registerBuffer('weightU', u);
  layer.registerBuffer('weightV', v);
  layer.setWeightTransform((l) => normalizedWeight(l, settings, l.training));
  applied.set(layer, settings);
  return layer;
}

/**
 * Undoes `spectralNorm`, like `torch.nn.utils.remove_spectral_norm`: the current normalized
 * weight (with the stored u, v, no power iteration) is written into the original tensor, which
 * becomes the parameter `weight` again; `weightU` and `weightV` are freed. Returns the layer.
 */
export function removeSpectralNorm<L extends WeightedLayer>(layer: L): L {
  const settings = applied.get(layer);
  if (!settings) throw new Error(`removeSpectralNorm: spectral norm was not applied to this ${layer.typeName}`);
  tidy(() => noGrad(() => assign(layer.getParameter('weightOrig')!, normalizedWeight(layer, settings, false))));
  const weight = layer.removeParameter('weightOrig')!;
  for (const name of ['weightU', 'weightV']) {
    layer.getBuffer(name)?.dispose();
    layer.registerBuffer(name, null);
  }
  layer.registerParameter('weight', weight);
  layer.setWeightTransform(null);
  applied.delete(layer);
  return layer;
}
