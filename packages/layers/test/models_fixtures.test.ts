import { noGrad, type Tensor } from '@welford/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSafetensors, toPyTorchName } from '../src/checkpoint/index.ts';
import type { AnyModule } from '../src/module/module.ts';
import { BasicBlock, PreActBlock, PreActBottleneck, preActResNet, smallCnn, uNet } from '../src/models/index.ts';
import { expectMatches, readFixture, readFixtureBytes, tensorOf, useGpu, type FixtureTensor } from './helpers.ts';

// Fixtures from scripts/fixtures/layers_models.py: the same architectures in PyTorch (float64),
// their state saved as safetensors, one training-mode forward/backward and one eval forward.
interface ModelFixture {
  input: FixtureTensor;
  grad_output: FixtureTensor;
  output_train: FixtureTensor;
  grad_input: FixtureTensor;
  /** Parameter gradients by PyTorch name. */
  grads: Record<string, FixtureTensor>;
  /** Float buffers (running statistics) after the training-mode call. */
  buffers: Record<string, FixtureTensor>;
  /** num_batches_tracked after the training-mode call. */
  counters: Record<string, number>;
  output_eval: FixtureTensor;
}

// float32 against float64 through a few layers of convolutions and norms: 1e-4 holds with margin.
const ATOL = 1e-4;
const RTOL = 1e-4;

const cases: [string, () => AnyModule][] = [
  ['preact_block', () => new PreActBlock(3, 4, { stride: 2 })],
  ['preact_bottleneck', () => new PreActBottleneck(4, 2, { stride: 2 })],
  ['basic_block', () => new BasicBlock(3, 5, { stride: 2 })],
  ['preact_resnet8_batch', () => preActResNet({ depth: 8, width: 4 })],
  ['preact_resnet8_group', () => preActResNet({ depth: 8, width: 4, norm: 'group', groups: 2 })],
  ['unet', () => uNet({ depth: 2, baseWidth: 4 })],
  ['small_cnn', () => smallCnn({ widths: [6, 8, 8] })],
];

beforeAll(async () => {
  await useGpu();
});

describe('models match PyTorch (loaded from safetensors, run on the GPU)', () => {
  for (const [name, make] of cases) {
    it(name, async () => {
      const f = readFixture<ModelFixture>(`models_${name}.json`);
      const model = make();
      await loadSafetensors(model, readFixtureBytes(`models_${name}.safetensors`));
      model.train();

      const x = tensorOf(f.input, true);
      const out = model.call(x) as Tensor;
      await expectMatches(out, f.output_train, ATOL, RTOL, 'train output');
      const gradOut = tensorOf(f.grad_output);
      out.backward(gradOut);
      await expectMatches(x.grad!, f.grad_input, ATOL, RTOL, 'input gradient');

      const params = model.namedParameters();
      expect(params.map(([n]) => toPyTorchName(n)).sort()).toEqual(Object.keys(f.grads).sort());
      for (const [n, p] of params) await expectMatches(p.grad!, f.grads[toPyTorchName(n)], ATOL, RTOL, `gradient of ${n}`);

      const entries = model.stateEntries().filter((e) => e.kind === 'buffer');
      const floats = entries.filter((e) => e.dtype === 'float32');
      const counts = entries.filter((e) => e.dtype === 'int64');
      expect(floats.map((e) => toPyTorchName(e.name)).sort()).toEqual(Object.keys(f.buffers).sort());
      for (const e of floats) await expectMatches(e.tensor, f.buffers[toPyTorchName(e.name)], ATOL, RTOL, `buffer ${e.name}`);
      expect(counts.map((e) => toPyTorchName(e.name)).sort()).toEqual(Object.keys(f.counters).sort());
      for (const e of counts) expect(Array.from(await e.tensor.toArray()), e.name).toEqual([f.counters[toPyTorchName(e.name)]]);

      model.eval();
      const xEval = tensorOf(f.input);
      const evalOut = noGrad(() => model.call(xEval) as Tensor);
      await expectMatches(evalOut, f.output_eval, ATOL, RTOL, 'eval output');

      for (const t of [x.grad!, x, out, gradOut, xEval, evalOut]) t.dispose();
      model.dispose();
    });
  }
});
