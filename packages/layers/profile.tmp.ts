import { init, manualSeed, randn, fromArray, crossEntropy, tidy, SGD, getBackend, WebGpuBackend, type Program } from '@welford/core';
import { smallCnn } from './src/index.ts';
await init();
manualSeed(1);
const norm = (process.argv[2] ?? 'batch') as 'batch';
const model = smallCnn({ norm });
const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
const x = randn([32, 1, 28, 28]);
const labels = fromArray(Array.from({ length: 32 }, (_, i) => i % 10));
const be = getBackend() as WebGpuBackend;
const step = () => { tidy(() => { const loss = crossEntropy(model.call(x), labels); loss.backward(); }); opt.step(); model.zeroGrad(); };
step(); await be.sync();
const programs: Program[] = [];
const run = be.run.bind(be);
be.run = (p: Program) => { programs.push(p); run(p); };
step(); await be.sync();
be.run = run;
const rows: [string, number][] = [];
for (const p of programs) {
  await be.sync();
  const t0 = performance.now();
  for (let i = 0; i < 3; i++) run(p);
  await be.sync();
  rows.push([`${p.kernel}${p.entryPoint ? ':' + p.entryPoint : ''} ${JSON.stringify(p.dispatch)} ${JSON.stringify(p.overrides ?? {})}`, (performance.now() - t0) / 3]);
}
const total = rows.reduce((a, [, t]) => a + t, 0);
const byKernel = new Map<string, number>();
for (const [k, t] of rows) { const key = k.split(' ')[0]; byKernel.set(key, (byKernel.get(key) ?? 0) + t); }
console.log('total', total.toFixed(0), 'ms over', rows.length, 'dispatches');
for (const [k, t] of [...byKernel].sort((a, b) => b[1] - a[1])) console.log(t.toFixed(1).padStart(8), k);
console.log('--- top dispatches');
for (const [k, t] of [...rows].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(t.toFixed(1).padStart(8), k);
process.exit(0);
