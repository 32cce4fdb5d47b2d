// Trains a pre-activation ResNet-8 (batch norm) for three steps and a U-Net (group norm) for one,
// then writes each as a safetensors checkpoint with an input and the eval-mode output, for
// scripts/fixtures/check_welford_export.py to load into the PyTorch definitions and compare.
// Usage: pnpm exec tsx packages/layers/scripts/export_for_pytorch.ts OUT_DIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crossEntropy, fromArray, init, manualSeed, mean, randn, SGD, tidy, type Tensor } from '@welford/core';
import { preActResNet, saveSafetensors, uNet, type Module } from '../src/index.ts';

const out = process.argv[2];
if (!out) throw new Error('usage: export_for_pytorch.ts OUT_DIR');
mkdirSync(out, { recursive: true });
await init();
manualSeed(7);

async function write(name: string, model: Module, x: Tensor): Promise<void> {
  model.eval();
  const y = model.call(x);
  writeFileSync(join(out, `${name}.safetensors`), await saveSafetensors(model));
  writeFileSync(join(out, `${name}.json`), JSON.stringify({ shape: x.shape, x: [...(await x.toArray())], y: [...(await y.toArray())] }));
}

const resnet = preActResNet({ depth: 8, width: 4, classes: 10, inChannels: 1, norm: 'batch' });
const opt = new SGD(resnet.parameters(), { lr: 0.1, momentum: 0.9 });
for (let i = 0; i < 3; i++) {
  tidy(() => crossEntropy(resnet.call(randn([4, 1, 12, 12])), fromArray([1, 2, 3, 4])).backward());
  opt.step();
  resnet.zeroGrad();
}
await write('resnet', resnet, randn([2, 1, 12, 12]));

const unet = uNet({ depth: 2, baseWidth: 4, norm: 'group', groups: 2 });
tidy(() => mean(unet.call(randn([2, 1, 13, 11]))).backward());
await write('unet', unet, randn([2, 1, 13, 11]));
console.log(`wrote ${out}/{resnet,unet}.{safetensors,json}`);
process.exit(0);
