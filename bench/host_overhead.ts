// Host overhead: how long the CPU takes to record a training step (or a batch-norm call)
// without waiting, against how long the work takes to finish and how long the GPU is busy with
// it (dispatch timestamps, where the device has them), with what each repetition makes:
// dispatches, submits and buffer writes, and what it creates (pipelines, bind groups, uniform
// buffers, storage buffers), which after warm-up should be nothing. On a fast GPU the first number is the
// floor of a step; on a software adapter the second dominates. Prints figures, asserts none.
//   pnpm bench:host [--reps N]
import { batchNorm, crossEntropy, fromArray, getBackend, init, manualSeed, memory, ones, randn, SGD, tidy, WebGpuBackend, zeros, type Tensor } from '../packages/core/src/index.ts';
import { preActResNet, smallCnn, type Module } from '../packages/layers/src/index.ts';

const repsArg = process.argv.indexOf('--reps');
const REPS = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 20;

await init();
const current = getBackend();
if (!(current instanceof WebGpuBackend)) throw new Error('host_overhead needs the WebGPU backend');
const backend: WebGpuBackend = current;
let writes = 0;
const write = backend.write.bind(backend);
backend.write = (storage, data) => {
  writes++;
  write(storage, data);
};

interface Figures {
  recordMs: number;
  totalMs: number;
  /** The repetition's dispatches' GPU time (timestamps summed), where the device can time them. */
  gpuMs: number | null;
  perRep: Record<string, number>;
}

/** Runs `rep` REPS times: the time to record them all, the time until the GPU is done, counts per repetition. */
async function measure(rep: () => void, reps: number): Promise<Figures> {
  // Warm-up waits for each rep: an optimizer's first step settles its new buffers asynchronously,
  // and the steady state is what is measured.
  for (let i = 0; i < 3; i++) {
    rep();
    await backend.sync();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const before = { ...backend.counters, writes, buffers: memory().createdBuffers };
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) rep();
  const t1 = performance.now();
  await backend.sync();
  const t2 = performance.now();
  const after = { ...backend.counters, writes, buffers: memory().createdBuffers };
  const perRep: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) perRep[k] = (v - before[k as keyof typeof before]) / reps;
  let gpuMs: number | null = null;
  if (backend.canTimeDispatches) {
    const timed = reps;
    backend.startGpuTiming({ granularity: 'pass' });
    for (let i = 0; i < timed; i++) rep();
    const { times } = await backend.stopGpuTiming();
    gpuMs = times.reduce((a, t) => a + t.ns, 0) / timed / 1e6;
  }
  return { recordMs: (t1 - t0) / reps, totalMs: (t2 - t0) / reps, gpuMs, perRep };
}

function print(name: string, f: Figures): void {
  const counts = Object.entries(f.perRep)
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(2)}`)
    .join(', ');
  const gpu = f.gpuMs === null ? 'n/a' : `${f.gpuMs.toFixed(3)} ms`;
  console.log(`${name.padEnd(34)} record ${f.recordMs.toFixed(3).padStart(8)} ms  finished ${f.totalMs.toFixed(3).padStart(8)} ms  GPU busy ${gpu.padStart(9)}  per rep: ${counts}`);
}

function trainingStep(model: Module, foreach = true): () => void {
  const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, foreach });
  const x = randn([32, 1, 28, 28]);
  const labels = fromArray(Array.from({ length: 32 }, (_, i) => i % 10));
  return () => {
    tidy(() => crossEntropy(model.call(x), labels).backward());
    opt.step();
    model.zeroGrad();
  };
}

console.log(`adapter: ${backend.acquired.adapterName}; ${REPS} repetitions after 3 untimed`);
manualSeed(1);
// SGD updates every parameter in one dispatch (foreach); the per-parameter rows set that beside
// one dispatch per parameter, in the same run.
const models: [string, () => Module, boolean][] = [
  ['model S (batch norm) step', () => smallCnn(), true],
  ['model S (batch norm), SGD per param', () => smallCnn(), false],
  ['model S (group norm 8) step', () => smallCnn({ norm: 'group', groups: 8 }), true],
  ['pre-act ResNet-8 step', () => preActResNet({ depth: 8, width: 16, classes: 10, inChannels: 1 }), true],
  ['pre-act ResNet-8, SGD per param', () => preActResNet({ depth: 8, width: 16, classes: 10, inChannels: 1 }), false],
];
for (const [name, make, foreach] of models) {
  const model = make();
  print(name, await measure(trainingStep(model, foreach), REPS));
  model.dispose();
}

const shape = [32, 64, 32, 32];
const x = randn(shape);
const [weight, bias, runningMean, runningVar]: Tensor[] = [ones([64]), zeros([64]), zeros([64]), ones([64])];
// realize(): the output is deferred until used, and this times the whole op.
const forward = () => tidy(() => void batchNorm(x, { weight, bias, runningMean, runningVar, training: true, momentum: 0.1, eps: 1e-5 }).realize());
print('batch norm [32,64,32,32] forward', await measure(forward, REPS * 10));
process.exit();
