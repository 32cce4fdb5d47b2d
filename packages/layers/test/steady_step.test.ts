import { Adam, crossEntropy, fromArray, manualSeed, memory, randn, SGD, tidy, type Optimizer, type WebGpuBackend } from '@welford/core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Module } from '../src/module/module.ts';
import { preActResNet, smallCnn } from '../src/models/index.ts';
import { useGpu } from './helpers.ts';

// After warm-up, a training step records work and nothing else: no buffer, bind group, uniform
// buffer or pipeline is created, so the host's cost per step is recording alone. The buffer
// pool hands out the same buffers each step (oldest free first), which keeps every bind group
// in the cache; this fails when the step allocates or binds something new each time. Warm-up
// includes the optimizer's first step settling: the parameters' old storage goes back to the
// pool once the device has confirmed the optimizer's buffers, which changes what later steps get.

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await useGpu();
});

const BATCH = 4;

function stepOf(model: Module, opt: Optimizer, size: number): () => void {
  const x = randn([BATCH, 1, size, size]);
  const labels = fromArray(Array.from({ length: BATCH }, (_, i) => i % 10));
  return () => {
    tidy(() => crossEntropy(model.call(x), labels).backward());
    opt.step();
    model.zeroGrad();
  };
}

const cases: [string, () => Module, number][] = [
  ['model S with batch norm', () => smallCnn({ width: 8 }), 12],
  ['model S with group norm', () => smallCnn({ width: 8, norm: 'group', groups: 4 }), 12],
  ['pre-activation ResNet-8', () => preActResNet({ depth: 8, width: 8, classes: 10, inChannels: 1 }), 12],
];

describe('a repeated training step creates nothing', () => {
  for (const [name, make, size] of cases) {
    for (const optimizer of ['SGD with momentum', 'Adam'] as const) {
      it(`${name}, ${optimizer}`, async () => {
        manualSeed(3);
        const model = make();
        const opt = optimizer === 'Adam' ? new Adam(model.parameters()) : new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
        const step = stepOf(model, opt, size);
        for (let i = 0; i < 3; i++) {
          step();
          await gpu.sync();
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
        const before = { ...gpu.counters, buffers: memory().createdBuffers };
        for (let i = 0; i < 3; i++) step();
        await gpu.sync();
        const after = { ...gpu.counters, buffers: memory().createdBuffers };
        expect(after.dispatches).toBeGreaterThan(before.dispatches);
        expect({ bindGroups: after.bindGroups, uniformBuffers: after.uniformBuffers, pipelines: after.pipelines, buffers: after.buffers }).toEqual({
          bindGroups: before.bindGroups,
          uniformBuffers: before.uniformBuffers,
          pipelines: before.pipelines,
          buffers: before.buffers,
        });
        opt.dispose();
        model.dispose();
      });
    }
  }
});
