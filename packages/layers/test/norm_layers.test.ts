import { beforeAll, describe, expect, it } from 'vitest';
import { tidy, type Tensor } from '@welford/core';
import {
  BatchNorm1d,
  BatchNorm2d,
  BatchRenorm2d,
  ConditionalBatchNorm2d,
  Conv2d,
  ConvTranspose2d,
  GroupNorm,
  InstanceNorm1d,
  InstanceNorm2d,
  LayerNorm,
  Linear,
  spectralNorm,
  type AnyModule,
  type WeightedLayer,
} from '../src/index.ts';
import { expectMatches, readFixture, tensorOf, useGpu, type FixtureTensor } from './helpers.ts';

// Every normalization layer against PyTorch (scripts/fixtures/layers_norm.py): a few training
// calls then evaluation, comparing outputs, input and parameter gradients, and buffers after each call.

interface Step {
  training: boolean;
  input: FixtureTensor;
  labels?: FixtureTensor;
  gradOutput: FixtureTensor;
  expect: Record<string, FixtureTensor>;
}

interface Case {
  id: string;
  layer: string;
  args: unknown[];
  options: Record<string, unknown>;
  state: Record<string, FixtureTensor>;
  steps: Step[];
  spectral?: { nPowerIterations?: number };
  tol: { atol: number; rtol: number };
}

// The fixture's args and options are those of welford's constructors.
/* eslint-disable @typescript-eslint/no-explicit-any -- constructor arguments come from JSON */
const builders: Record<string, (args: any[], options: any) => AnyModule> = {
  BatchNorm1d: ([c], o) => new BatchNorm1d(c, o),
  BatchNorm2d: ([c], o) => new BatchNorm2d(c, o),
  GroupNorm: ([g, c], o) => new GroupNorm(g, c, o),
  LayerNorm: ([shape], o) => new LayerNorm(shape, o),
  InstanceNorm1d: ([c], o) => new InstanceNorm1d(c, o),
  InstanceNorm2d: ([c], o) => new InstanceNorm2d(c, o),
  BatchRenorm2d: ([c], o) => new BatchRenorm2d(c, o),
  ConditionalBatchNorm2d: ([c, k], o) => new ConditionalBatchNorm2d(c, k, o),
  Linear: ([i, o2], o) => new Linear(i, o2, o),
  Conv2d: ([i, o2, k], o) => new Conv2d(i, o2, k, o),
  ConvTranspose2d: ([i, o2, k], o) => new ConvTranspose2d(i, o2, k, o),
};
/* eslint-enable @typescript-eslint/no-explicit-any */

function build(c: Case): AnyModule {
  const layer = builders[c.layer](c.args, c.options);
  return c.spectral ? spectralNorm(layer as WeightedLayer, c.spectral) : layer;
}

const fixture = readFixture<{ cases: Case[] }>('norm_layers.json');

describe('normalization layers against PyTorch', () => {
  beforeAll(async () => {
    await useGpu();
  });

  it.each(fixture.cases.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const layer = build(c);
    const host = Object.fromEntries(Object.entries(c.state).map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.data) }]));
    await layer.loadStateDict(host);
    try {
      for (const [i, step] of c.steps.entries()) {
        layer.train(step.training);
        layer.zeroGrad();
        const where = `${c.id} step ${i} (${step.training ? 'train' : 'eval'})`;
        const got = tidy(() => {
          const x = tensorOf(step.input, true);
          const inputs: Tensor[] = step.labels ? [x, tensorOf(step.labels)] : [x];
          const y = layer.call(...inputs) as Tensor;
          y.backward(tensorOf(step.gradOutput));
          return { y, x };
        });
        const state = layer.stateDict();
        for (const [name, want] of Object.entries(step.expect)) {
          let t: Tensor | null;
          if (name === 'output') t = got.y;
          else if (name === 'grad.input') t = got.x.grad;
          else if (name.startsWith('grad.')) t = state[name.slice(5)]?.grad ?? null;
          else t = state[name] ?? null;
          expect(t, `${where}: ${name}`).not.toBeNull();
          await expectMatches(t!, want, c.tol.atol, c.tol.rtol, `${where}: ${name}`);
        }
        // No gradient where PyTorch has none (e.g. no affine parameters).
        for (const [name, p] of layer.namedParameters()) expect(`grad.${name}` in step.expect || p.grad === null, `${where}: grad.${name}`).toBe(true);
        got.y.dispose();
        got.x.dispose();
      }
    } finally {
      layer.dispose();
    }
  });
});
