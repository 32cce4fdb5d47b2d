// Batch of one: training-mode batch norm over an (N, C) input averages N values per channel, so
// with N = 1 every value equals its channel's mean, the variance is 0, the output is the constant
// β and no gradient reaches x or γ. Measured with batch norm written out in core ops (autograd
// through mean and variance), checked against the BatchNorm1d layer where the layer accepts the
// input; the layer itself refuses N = 1 in training, and BatchNorm2d accepts (1, C, H, W).
import { abs, add, assign, div, fromArray, max, mean, min, mul, noGrad, randn, Random, sqrt, square, sub, sum, tidy, variance, type Tensor } from '@welford/core';
import { BatchNorm1d, BatchNorm2d, type BatchNormBase } from '@welford/layers';
import { listed } from '../format.ts';
import { ResultBuilder } from '../result_builder.ts';
import { readScalar } from '../training/read_scalar.ts';
import type { Experiment, ExperimentContext, ExperimentPlan, RunOptions } from '../types.ts';

const INFO = {
  name: 'batch-of-one',
  title: 'Batch of one: constant output, zero gradient',
  claim: 'Training-mode batch norm on an (N, C) input with N = 1 outputs the constant β and passes back zero gradient; BatchNorm1d refuses it, while (1, C, H, W) has H·W values per channel and is fine.',
};

const CHANNELS = 6;
const EPS = 1e-5;
/** The spatial size of the single BatchNorm2d sample: 25 values per channel. */
const SIDE = 5;
/** The message BatchNorm1d gives (as PyTorch) for one value per channel in training. */
const REFUSAL = `Expected more than 1 value per channel when training, got input size [1, ${CHANNELS}]`;

/** The batch sizes N of the written-out batch norm. */
const sizesOf = (quick: boolean) => (quick ? [1, 2, 8] : [1, 2, 3, 4, 8]);

/** Nothing trains: every number is one forward and backward pass. */
function plan(options: RunOptions = {}): ExperimentPlan {
  const sizes = sizesOf(options.quick ?? false);
  return {
    shows: `The output and gradients of training-mode batch norm on (N, ${CHANNELS}) inputs at N = ${listed(sizes)}, and what BatchNorm1d and BatchNorm2d do with a single sample.`,
    networks: 0,
    steps: 0,
  };
}

/** Training-mode batch norm over axis 0, written out: (x − mean) / sqrt(biased var + eps) · γ + β. */
function writtenOutBatchNorm(x: Tensor, gamma: Tensor, beta: Tensor): Tensor {
  const centred = sub(x, mean(x, 0, true));
  const biasedVar = variance(x, 0, { correction: 0, keepDims: true });
  return add(mul(div(centred, sqrt(add(biasedVar, EPS))), gamma), beta);
}

/** The Euclidean norm of a gradient (0 when none arrived). */
function norm(t: Tensor | null): Tensor {
  return t ? sqrt(sum(square(t))) : fromArray([0], []);
}

/** max − min over `axes`, averaged over what is left: how far a channel's outputs are from constant. */
function spread(y: Tensor, axes: number[]): Tensor {
  return mean(sub(max(y, axes), min(y, axes)));
}

/** Reads one-element tensors back and frees them. */
async function readAll<K extends string>(tensors: Record<K, Tensor>): Promise<Record<K, number>> {
  const keys = Object.keys(tensors) as K[];
  const values = await Promise.all(keys.map((k) => readScalar(tensors[k])));
  return Object.fromEntries(keys.map((k, i) => [k, values[i]])) as Record<K, number>;
}

/** A layer in training mode with weight γ and bias β. */
function layerWith<L extends BatchNormBase>(layer: L, gamma: Tensor, beta: Tensor): L {
  assign(layer.weight!, gamma);
  assign(layer.bias!, beta);
  return layer;
}

async function run(context: ExperimentContext, options: RunOptions = {}) {
  const builder = new ResultBuilder(INFO, options, context);
  const { quick, seed } = builder.settings;
  const sizes = sizesOf(quick);
  // A non-trivial affine: γ around 1 with spread, β of order 1, so "output = β" is not "output = 0".
  const rng = new Random(seed);
  const gammaValues = Float32Array.from({ length: CHANNELS }, () => 1 + 0.5 * rng.normal());
  const betaValues = Float32Array.from({ length: CHANNELS }, () => rng.normal());
  const affine = () => ({ gamma: fromArray(gammaValues, [CHANNELS], { requiresGrad: true }), beta: fromArray(betaValues, [CHANNELS], { requiresGrad: true }) });

  const table = builder.table(`Training-mode batch norm written out with core ops on (N, ${CHANNELS}) inputs (random γ, β; loss Σ y·w, w random)`, [
    { label: 'N', digits: 0 },
    { label: 'output spread', digits: 4 },
    { label: 'max |y − β|', scientific: true },
    { label: '‖∂L/∂x‖', scientific: true },
    { label: '‖∂L/∂γ‖', scientific: true },
    { label: 'max |Δy| vs BatchNorm1d', scientific: true },
    { label: 'max |Δ∂L/∂x| vs BatchNorm1d', scientific: true },
  ]);
  const chart = builder.chart({ title: 'Batch norm on (N, C): output spread and input gradient', x: 'batch size N', y: 'value' });
  const rows: { n: number; spread: number; offBeta: number; gradX: number; gradGamma: number; dy: number | null; dgrad: number | null }[] = [];

  for (const n of sizes) {
    builder.checkStopped();
    const measuredTensors = tidy(() => {
      const { gamma, beta } = affine();
      const x = randn([n, CHANNELS], { seed: seed * 1009 + n, requiresGrad: true });
      const w = randn([n, CHANNELS], { seed: seed * 2003 + n });
      const y = writtenOutBatchNorm(x, gamma, beta);
      sum(mul(y, w)).backward();
      const own = noGrad(() => ({ spread: spread(y, [0]), offBeta: max(abs(sub(y, beta))), gradX: norm(x.grad), gradGamma: norm(gamma.grad) }));
      if (n === 1) return own;
      // The same input, weights and loss through the layer (its own kernels and backward).
      const layer = layerWith(new BatchNorm1d(CHANNELS, { eps: EPS }), gamma, beta);
      try {
        const xLayer = x.detach().requireGrad();
        const yLayer = layer.call(xLayer);
        sum(mul(yLayer, w)).backward();
        return { ...own, dy: noGrad(() => max(abs(sub(yLayer, y)))), dgrad: noGrad(() => max(abs(sub(xLayer.grad!, x.grad!)))) };
      } finally {
        layer.dispose();
      }
    });
    builder.measured(n === 1 ? 1 : 2);
    const m = await readAll<string>(measuredTensors);
    const row = { n, spread: m.spread, offBeta: m.offBeta, gradX: m.gradX, gradGamma: m.gradGamma, dy: m.dy ?? null, dgrad: m.dgrad ?? null };
    rows.push(row);
    table.add([n, row.spread, row.offBeta, row.gradX, row.gradGamma, row.dy, row.dgrad]);
    chart.point('‖∂L/∂x‖', n, row.gradX);
    chart.point('output spread (max − min per channel)', n, row.spread);
  }

  builder.checkStopped();
  const layers = builder.table('BatchNorm layers in training mode on a single sample', [
    { label: 'layer' },
    { label: 'input' },
    { label: 'values per channel', digits: 0 },
    { label: 'outcome' },
    { label: 'output spread', digits: 4 },
    { label: '‖∂L/∂x‖', scientific: true },
  ]);
  let refusal = '';
  const single = new BatchNorm1d(CHANNELS, { eps: EPS });
  try {
    tidy(() => single.call(randn([1, CHANNELS], { seed })));
  } catch (e) {
    refusal = e instanceof Error ? e.message : String(e);
  } finally {
    single.dispose();
  }
  layers.add(['BatchNorm1d', `[1, ${CHANNELS}]`, 1, refusal ? `throws: ${refusal}` : 'accepted (no error)', null, null]);

  const image = tidy(() => {
    const { gamma, beta } = affine();
    const layer = layerWith(new BatchNorm2d(CHANNELS, { eps: EPS }), gamma, beta);
    try {
      const x = randn([1, CHANNELS, SIDE, SIDE], { seed: seed * 3001, requiresGrad: true });
      const y = layer.call(x);
      sum(mul(y, randn(y.shape, { seed: seed * 4001 }))).backward();
      return noGrad(() => ({ spread: spread(y, [0, 2, 3]), gradX: norm(x.grad) }));
    } finally {
      layer.dispose();
    }
  });
  builder.measured(1);
  const im = await readAll(image);
  layers.add(['BatchNorm2d', `[1, ${CHANNELS}, ${SIDE}, ${SIDE}]`, SIDE * SIDE, 'normalizes', im.spread, im.gradX]);

  // Thresholds: N = 1 must give β to 1e-6 and gradients below 1e-6 (exactly 0 in exact
  // arithmetic); N ≥ 2 must give an output spread and a γ gradient above 1e-3 (they are of order 1
  // here), and N ≥ 3 an input gradient above 1e-3. N = 2 is the other degenerate case: x̂ = ±1
  // whatever the two values are, so ∂L/∂x comes only through eps, ∝ eps/|x₁ − x₂|³ (reported, not required).
  // The written-out ops must agree with the layer to 1e-4 (float32 rounding is ~1e-6); the layer
  // must refuse N = 1 with PyTorch's message, and BatchNorm2d must pass a gradient back.
  const one = rows.find((r) => r.n === 1)!;
  const two = rows.find((r) => r.n === 2);
  const many = rows.filter((r) => r.n >= 2);
  const beyondTwo = rows.filter((r) => r.n >= 3);
  const worstLayerDiff = Math.max(...many.map((r) => Math.max(r.dy!, r.dgrad!)));
  const smallestGrad = Math.min(...beyondTwo.map((r) => r.gradX));
  const smallestGammaGrad = Math.min(...many.map((r) => r.gradGamma));
  const smallestSpread = Math.min(...many.map((r) => r.spread));
  const oneIsBeta = one.offBeta <= 1e-6 && one.gradX < 1e-6 && one.gradGamma < 1e-6;
  const manyMove = smallestGrad > 1e-3 && smallestGammaGrad > 1e-3 && smallestSpread > 1e-3;
  const refused = refusal.includes(REFUSAL);
  const holds = oneIsBeta && manyMove && refused && worstLayerDiff <= 1e-4 && im.gradX > 1e-3;
  const e = (v: number) => v.toExponential(1);
  const twoNote = two ? ` (N = 2 normalizes the two values to ±1 whatever they are, so its ‖∂L/∂x‖ = ${e(two.gradX)} comes only through eps)` : '';
  const verdict =
    `With N = 1 the output differs from β by at most ${e(one.offBeta)} and ‖∂L/∂x‖ = ${e(one.gradX)}, ‖∂L/∂γ‖ = ${e(one.gradGamma)}; ` +
    `with N ≥ 2 the output spreads by at least ${smallestSpread.toFixed(3)} and ‖∂L/∂γ‖ ≥ ${smallestGammaGrad.toFixed(3)}, with N ≥ 3 ‖∂L/∂x‖ ≥ ${smallestGrad.toFixed(3)}${twoNote}; ` +
    `the written-out ops match BatchNorm1d within ${e(worstLayerDiff)}. ` +
    `BatchNorm1d on [1, ${CHANNELS}] ${refusal ? `throws "${refusal}"` : 'does not throw'}; BatchNorm2d on [1, ${CHANNELS}, ${SIDE}, ${SIDE}] normalizes ${SIDE * SIDE} values per channel (‖∂L/∂x‖ = ${im.gradX.toFixed(3)}). ` +
    (holds ? 'A batch of one collapses to β with no gradient, as claimed.' : 'The measurements do not show the claimed collapse.');
  return builder.finish(verdict, holds);
}

export const batchOfOne: Experiment = { ...INFO, run, plan };
