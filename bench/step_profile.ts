// Where a training step's time goes: records one step of model S (and ResNet-8) on the WebGPU
// backend and prints the GPU time per kernel entry point and the slowest dispatches, with the
// step's dispatch, submit and buffer counts. Where the device has timestamp queries, one more
// step is timed dispatch by dispatch on the GPU; elsewhere each recorded dispatch is replayed
// on its own between waits (those times add up to more than a pipelined step). A program that
// prints figures, not a test.
//   pnpm bench:profile [small-cnn|resnet8] [batch|group|...] [--no-subgroups]
// --no-subgroups runs the kernels that adapters without subgroups run (Firefox, Deno), here.
import { crossEntropy, fromArray, getBackend, init, manualSeed, memory, randn, SGD, tidy, WebGpuBackend, type Program } from '../packages/core/src/index.ts';
import { isNormKind, preActResNet, smallCnn, type Module } from '../packages/layers/src/index.ts';

const args = process.argv.slice(2);
const noSubgroups = args.includes('--no-subgroups');
const [modelName = 'small-cnn', norm = 'batch'] = args.filter((a) => a !== '--no-subgroups');
if (!isNormKind(norm)) throw new Error(`unknown norm ${norm}`);
const REPLAYS = 3;

await init();
const backend = getBackend();
if (!(backend instanceof WebGpuBackend)) throw new Error('step_profile needs the WebGPU backend');
if (noSubgroups) backend.useSubgroups = false;
manualSeed(1);
const model: Module =
  modelName === 'resnet8' ? preActResNet({ depth: 8, width: 16, classes: 10, inChannels: 1, norm }) : modelName === 'small-cnn' ? smallCnn({ norm }) : (() => {
    throw new Error(`unknown model ${modelName}: small-cnn or resnet8`);
  })();
const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
const x = randn([32, 1, 28, 28]);
const labels = fromArray(Array.from({ length: 32 }, (_, i) => i % 10));
const step = (): void => {
  tidy(() => crossEntropy(model.call(x), labels).backward());
  opt.step();
  model.zeroGrad();
};

for (let i = 0; i < 2; i++) step(); // warm-up: pipelines, pooled buffers, cached bind groups
await backend.sync();
const programs: Program[] = [];
const run = backend.run.bind(backend);
backend.run = (p: Program) => {
  programs.push(p);
  run(p);
};
const before = { ...backend.counters, created: memory().createdBuffers };
const t0 = performance.now();
step();
await backend.sync();
const stepMs = performance.now() - t0;
backend.run = run;
const after = { ...backend.counters, created: memory().createdBuffers };

const label = (p: Program): string => `${p.kernel}${p.entryPoint ? `:${p.entryPoint}` : ''}`;
const detail = (p: Program): string => `dispatch ${JSON.stringify(p.dispatch)} ${JSON.stringify(p.overrides ?? {})}`;
const rows: { label: string; detail: string; ms: number }[] = [];
// With timestamp queries, one more step is timed on the GPU, dispatch by dispatch, as it runs;
// without them, each recorded dispatch is replayed alone between waits.
const timed = backend.canTimeDispatches;
if (timed) {
  backend.startGpuTiming();
  step();
  const { times } = await backend.stopGpuTiming();
  if (times.length !== programs.length) throw new Error(`timed ${times.length} dispatches, recorded ${programs.length}`);
  programs.forEach((p, i) => rows.push({ label: label(p), detail: detail(p), ms: times[i].ns / 1e6 }));
} else {
  for (const p of programs) {
    await backend.sync();
    const start = performance.now();
    for (let i = 0; i < REPLAYS; i++) run(p);
    await backend.sync();
    rows.push({ label: label(p), detail: detail(p), ms: (performance.now() - start) / REPLAYS });
  }
}
const byKernel = new Map<string, { ms: number; count: number }>();
for (const r of rows) {
  const k = byKernel.get(r.label) ?? { ms: 0, count: 0 };
  byKernel.set(r.label, { ms: k.ms + r.ms, count: k.count + 1 });
}
const total = rows.reduce((a, r) => a + r.ms, 0);
console.log(`${backend.description}, subgroups ${backend.useSubgroups ? 'on' : backend.hasSubgroups ? 'off (--no-subgroups)' : 'not offered'}\n${modelName} (${norm}), batch 32: one step ${stepMs.toFixed(0)} ms;`
  + ` ${after.dispatches - before.dispatches} dispatches, ${after.submits - before.submits} submits,`
  + ` ${after.bindGroups - before.bindGroups} new bind groups, ${after.created - before.created} new buffers`);
const how = timed ? 'GPU timestamps of one more step' : 'each dispatch replayed alone between waits';
const fmt = (ms: number) => (timed ? ms.toFixed(3) : ms.toFixed(1)).padStart(9);
console.log(`\nper kernel (${how}; sum ${total.toFixed(timed ? 3 : 0)} ms):`);
for (const [k, v] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms)) console.log(`${fmt(v.ms)} ms  ${String(v.count).padStart(3)}×  ${k}`);
console.log('\nslowest dispatches:');
for (const r of [...rows].sort((a, b) => b.ms - a.ms).slice(0, 15)) console.log(`${fmt(r.ms)} ms  ${r.label} ${r.detail}`);
process.exit(0);
