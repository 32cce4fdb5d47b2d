import { init, manualSeed, randn, fromArray, crossEntropy, tidy, SGD, memory, getBackend, WebGpuBackend } from '@welford/core';
import { smallCnn } from './src/index.ts';
await init();
manualSeed(1);
const norm = (process.argv[2] ?? 'batch') as 'batch';
const model = smallCnn({ norm });
const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
const x = randn([32, 1, 28, 28]);
const labels = fromArray(Array.from({ length: 32 }, (_, i) => i % 10));
const be = getBackend() as WebGpuBackend;
const step = () => { const l = tidy(() => { const loss = crossEntropy(model.call(x), labels); loss.backward(); return loss; }); opt.step(); model.zeroGrad(); return l; };
for (let i = 0; i < 3; i++) { const l = step(); await l.item(); l.dispose(); }
const c0 = { ...be.counters }; const m0 = memory();
const t0 = performance.now();
const N = 5;
let last;
for (let i = 0; i < N; i++) { last?.dispose(); last = step(); }
console.log('loss', await last!.item());
const t1 = performance.now();
const c1 = { ...be.counters }; const m1 = memory();
console.log(norm, 'ms/step', ((t1 - t0) / N).toFixed(1), 'per step:', Object.fromEntries(Object.entries(c1).map(([k, v]) => [k, ((v as number) - (c0 as any)[k]) / N])), 'created buffers', m1.createdBuffers - m0.createdBuffers);
process.exit(0);
