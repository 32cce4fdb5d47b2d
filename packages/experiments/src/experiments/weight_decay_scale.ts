// Scale invariance of conv → batch norm (training mode), measured: scaling the conv's weights by c
// leaves the output unchanged and divides the weights' gradient by c. Batch norm's ε is the one
// thing that sees the scale: BN(c·Wx) = (Wx − μ) / sqrt(σ² + ε/c²), so with the default ε the
// output moves by a predictable amount once c²σ² is no longer large against ε.
import { abs, add, assign, concat, div, manualSeed, max, mul, noGrad, randn, reshape, sqrt, square, sub, sum, tidy, variance, type Tensor } from '@welford/core';
import type { ClassificationDataset } from '@welford/data';
import { BatchNorm2d, Conv2d } from '@welford/layers';
import type { ResultBuilder } from '../result_builder.ts';
import { digitBatches } from '../training/digits.ts';

/** The scales c of the weights, W → c·W. */
export const SCALES = [0.1, 1, 10, 100] as const;
/** PyTorch's default ε. */
export const DEFAULT_EPS = 1e-5;
/** An ε far below every c²σ² here, so that the output is the ε-free BN(c·Wx) up to float32 rounding. */
export const TINY_EPS = 1e-12;
/** A conv of the digit CNN's first stage, on a batch of digits. */
const CHANNELS = 8;
const BATCH = 24;

/** One scale's measurements. */
export interface ScaleRow {
  c: number;
  /** max |BN(c·Wx) − BN(Wx)| with ε = TINY_EPS, and that over max |BN(Wx)|. */
  maxDiff: number;
  relDiff: number;
  /** The same with ε = DEFAULT_EPS, and what ε alone predicts for it. */
  maxDiffDefaultEps: number;
  predictedDefaultEps: number;
  /** ‖∂L/∂(cW)‖ (ε = TINY_EPS) and that times c. */
  gradNorm: number;
  gradTimesC: number;
  /** cos(W, ∂L/∂W): 0 when the gradient is orthogonal to the weights, as scale invariance implies. */
  cosine: number;
}

/**
 * Conv2d(1, 8, 3, stride 2, no bias) → BatchNorm2d (training mode) on a batch of digits, with the
 * conv's weights set to c·W for each c; loss L = Σ BN(c·Wx) ⊙ R for a fixed random R (Σ BN(·)
 * alone has zero gradient: each channel of batch norm's output has a fixed sum). Rows go into a
 * table and a chart of ‖∂L/∂(cW)‖ against c beside the predicted ‖∂L/∂W‖ / c.
 */
export async function measureScaleInvariance(builder: ResultBuilder, train: ClassificationDataset, seed: number): Promise<ScaleRow[]> {
  const table = builder.table(`(a) Conv(1→${CHANNELS}, 3×3, stride 2) → BatchNorm2d in training mode on ${BATCH} digits, weights W → c·W; loss Σ BN(c·Wx)·R`, [
    { label: 'c', digits: 1 },
    { label: `max |Δ out| (ε = ${TINY_EPS.toExponential()})`, scientific: true },
    { label: 'relative', scientific: true },
    { label: `max |Δ out| (ε = ${DEFAULT_EPS.toExponential()})`, scientific: true },
    { label: 'predicted from ε', scientific: true },
    { label: '‖∂L/∂(cW)‖', scientific: true },
    { label: '‖∂L/∂(cW)‖·c', digits: 5 },
    { label: 'cos(W, ∂L/∂W)', scientific: true },
  ]);
  const chart = builder.chart({ title: '(a) Gradient of the scaled weights against the scale c', x: 'c (weights c·W)', y: '‖∂L/∂(cW)‖', logX: true, logY: true });
  manualSeed(seed);
  const conv = new Conv2d(1, CHANNELS, 3, { stride: 2, padding: 1, bias: false });
  const exact = new BatchNorm2d(CHANNELS, { eps: TINY_EPS });
  const usual = new BatchNorm2d(CHANNELS, { eps: DEFAULT_EPS });
  const [batch] = digitBatches(train, BATCH, 1, seed);
  const held: Tensor[] = [batch.x, batch.y];
  const rows: ScaleRow[] = [];
  try {
    const w0 = noGrad(() => mul(conv.weight, 1));
    held.push(w0);
    // c = 1: the reference outputs, and the per-channel batch variance σ² of Wx that ε is added to.
    const ref = tidy(() =>
      noGrad(() => {
        const z = conv.call(batch.x);
        return { exact: exact.call(z), usual: usual.call(z), sigma2: reshape(variance(z, [0, 2, 3], { correction: 0 }), [1, CHANNELS, 1, 1]) };
      }),
    );
    held.push(ref.exact, ref.usual, ref.sigma2);
    const r = randn(ref.exact.shape, { seed: seed * 7919 + 1 });
    held.push(r);
    builder.measured(2);
    let gradAtOne = NaN;
    for (const c of SCALES) {
      builder.checkStopped();
      const values = tidy(() => {
        noGrad(() => assign(conv.weight, mul(w0, c)));
        conv.zeroGrad();
        const z = conv.call(batch.x);
        const out = exact.call(z);
        sum(mul(out, r)).backward();
        const outUsual = noGrad(() => usual.call(z));
        const grad = conv.weight.grad!;
        return noGrad(() => {
          // With ε: out = (Wx − μ)/sqrt(σ² + ε/c²) = ref · sqrt(σ² + ε)/sqrt(σ² + ε/c²).
          const shrink = sqrt(div(add(ref.sigma2, DEFAULT_EPS), add(ref.sigma2, DEFAULT_EPS / (c * c))));
          const gradNorm = sqrt(sum(square(grad)));
          const cosine = div(sum(mul(w0, grad)), mul(sqrt(sum(square(w0))), gradNorm));
          const scalars = [max(abs(sub(out, ref.exact))), max(abs(ref.exact)), max(abs(sub(outUsual, ref.usual))), max(abs(mul(ref.usual, sub(shrink, 1)))), gradNorm, cosine];
          return concat(scalars.map((s) => reshape(s, [1])));
        });
      });
      builder.measured(2);
      const [maxDiff, maxRef, maxDiffDefaultEps, predictedDefaultEps, gradNorm, cosine] = await values.toArray().finally(() => values.dispose());
      if (c === 1) gradAtOne = gradNorm;
      const row: ScaleRow = { c, maxDiff, relDiff: maxDiff / maxRef, maxDiffDefaultEps, predictedDefaultEps, gradNorm, gradTimesC: gradNorm * c, cosine };
      rows.push(row);
      table.add([c, maxDiff, row.relDiff, maxDiffDefaultEps, predictedDefaultEps, gradNorm, row.gradTimesC, cosine]);
      chart.point('measured ‖∂L/∂(cW)‖', c, gradNorm);
    }
    // The prediction ‖∂L/∂W‖(c = 1) / c, drawn once c = 1 has been measured.
    chart.line('predicted ‖∂L/∂W‖ / c', SCALES.map((c) => [c, gradAtOne / c]), true);
  } finally {
    for (const t of held) t.dispose();
    conv.dispose();
    exact.dispose();
    usual.dispose();
  }
  return rows;
}
