// A few training steps of smallCnn on WebGPU against the same steps on the CPU reference: the
// same seed gives the same weights, so the losses must agree step by step, and fall.
import { Adam, CpuBackend, crossEntropy, fromArray, manualSeed, Random, setBackend, SGD, tidy, type Backend, type Optimizer, type Tensor } from '@welford/core';
import { smallCnn, type NormKind } from '@welford/layers';
import { expectClose, type Check } from '../check.ts';

const STEPS = 8;
/** Per step: |GPU loss - CPU loss| <= ATOL + RTOL·CPU loss (float32 against float64, compounding over the steps). */
const ATOL = 2e-3;
const RTOL = 2e-3;

/** Seeded 9×9 images whose class (of 3) sets the mean of one third of the image. */
function batch(n: number, seed: number): { images: Float32Array; labels: Float32Array } {
  const rng = new Random(seed);
  const labels = Float32Array.from({ length: n }, (_, i) => i % 3);
  const images = new Float32Array(n * 81);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < 81; p++) images[i * 81 + p] = rng.uniform() * 2 - 1 + (Math.floor(p / 27) === labels[i] ? 1 : 0);
  }
  return { images, labels };
}

type OptimizerKind = 'SGD' | 'Adam';
const optimizers: Record<OptimizerKind, (params: Tensor[]) => Optimizer> = {
  SGD: (params) => new SGD(params, { lr: 0.1, momentum: 0.9 }),
  Adam: (params) => new Adam(params, { lr: 0.05 }),
};

async function train(backend: Backend, norm: NormKind, optimizer: OptimizerKind): Promise<number[]> {
  setBackend(backend);
  manualSeed(7);
  const model = smallCnn({ inChannels: 1, classes: 3, widths: [4, 6, 6], norm, groups: 2 });
  const opt = optimizers[optimizer](model.parameters());
  const { images, labels } = batch(12, 3);
  const x = fromArray(images, [12, 1, 9, 9]);
  const y = fromArray(labels, [12]);
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const loss = tidy(() => {
      opt.zeroGrad();
      const l = crossEntropy(model.call(x), y);
      l.backward();
      opt.step();
      return l.detach();
    });
    losses.push(await loss.item());
    loss.dispose();
  }
  return losses;
}

const trainingCheck = (norm: NormKind, optimizer: OptimizerKind): Check => ({
  name: `smallCnn (${norm} norm), ${STEPS} ${optimizer} steps: losses as on the CPU, and falling`,
  async run({ gpu }) {
    const onGpu = await train(gpu, norm, optimizer);
    const onCpu = await train(new CpuBackend(), norm, optimizer);
    setBackend(gpu);
    const worst = expectClose(onGpu, onCpu, ATOL, RTOL, 'loss at step');
    if (!(onGpu[STEPS - 1] < 0.9 * onGpu[0])) throw new Error(`the loss did not fall by a tenth: ${onGpu.map((l) => l.toFixed(4)).join(', ')}`);
    return `loss ${onGpu[0].toFixed(4)} → ${onGpu[STEPS - 1].toFixed(4)}, max |Δ| ${worst.toExponential(1)}`;
  },
});

export const trainingChecks: Check[] = [trainingCheck('batch', 'SGD'), trainingCheck('group', 'SGD'), trainingCheck('layer', 'Adam')];
