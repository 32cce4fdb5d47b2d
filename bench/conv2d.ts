// Convolution benchmark: each pass (forward, input gradient, weight gradient) of the convolutions
// of model S (the small CNN: conv 1→16, conv 16→32 stride 2, conv 32→32 on [32, 1, 28, 28]) and
// of ResNet-8 on 28 x 28 images, in ms per call, GFLOP/s and CPU ms per call. CPU time is what a
// software adapter spends on all its threads; on a machine shared with other work it moves less
// than wall time. A program that prints figures, not a test.
// Run: pnpm bench:conv [--kinds] [--only TEXT] [--out FILE]
//   --kinds      also time each pass forced onto every other kind of kernel the device has
//   --only TEXT  only the convolutions whose name contains TEXT
//   --out FILE   where the JSON results go (default bench/results/conv2d.json)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebGpuBackend, conv2d, convTranspose2d, init, rand, runOp, sum, tidy, type Tensor } from '../packages/core/src/index.ts';
import { chooseKernel, convKernelChoice, convKernelsOn, weightGradSplits, type Conv2dGeometry, type ConvKernel } from '../packages/core/src/kernels/conv2d.ts';
import { copyBandwidth, figure, formatFigure, time, type Figure } from './measure.ts';
import { fp32Peak, ofPeak } from './peaks.ts';

interface Conv {
  name: string;
  input: [number, number, number, number];
  weight: [number, number, number, number];
  stride: number;
  padding: number;
  /** Whether model S or ResNet-8 needs the input's gradient (not for the first layer). */
  inputGrad: boolean;
  /** Part of model S (its step total adds these). */
  modelS: boolean;
}

const CONVS: Conv[] = [
  { name: 'S1 1→16', input: [32, 1, 28, 28], weight: [16, 1, 3, 3], stride: 1, padding: 1, inputGrad: false, modelS: true },
  { name: 'S2 16→32 stride 2', input: [32, 16, 28, 28], weight: [32, 16, 3, 3], stride: 2, padding: 1, inputGrad: true, modelS: true },
  { name: 'S3 32→32', input: [32, 32, 14, 14], weight: [32, 32, 3, 3], stride: 1, padding: 1, inputGrad: true, modelS: true },
  { name: 'R 16→16', input: [32, 16, 28, 28], weight: [16, 16, 3, 3], stride: 1, padding: 1, inputGrad: true, modelS: false },
  { name: 'R 16→32 1x1 stride 2', input: [32, 16, 28, 28], weight: [32, 16, 1, 1], stride: 2, padding: 0, inputGrad: true, modelS: false },
  { name: 'R 32→64 stride 2', input: [32, 32, 14, 14], weight: [64, 32, 3, 3], stride: 2, padding: 1, inputGrad: true, modelS: false },
  { name: 'R 32→64 1x1 stride 2', input: [32, 32, 14, 14], weight: [64, 32, 1, 1], stride: 2, padding: 0, inputGrad: true, modelS: false },
  { name: 'R 64→64', input: [32, 64, 7, 7], weight: [64, 64, 3, 3], stride: 1, padding: 1, inputGrad: true, modelS: false },
];

/** One pass of a convolution: its product's shape (which picks the kernel) and how to record it. */
interface Pass {
  name: 'forward' | 'input gradient' | 'weight gradient';
  product: { rows: number; cols: number; depth: number };
  record: () => void;
}

interface Row extends Figure {
  conv: string;
  pass: string;
  kernel: ConvKernel;
  chosen: boolean;
  /** CPU ms per call, all threads of this process. */
  cpuMs: number;
}

function geometry({ input: [N, Cin, H, W], weight: [Cout, , kH, kW], stride, padding }: Conv): Conv2dGeometry {
  const out = (size: number, k: number) => Math.floor((size + 2 * padding - k) / stride) + 1;
  return {
    batch: N,
    inChannels: Cin,
    inH: H,
    inW: W,
    outChannels: Cout,
    outH: out(H, kH),
    outW: out(W, kW),
    kernelH: kH,
    kernelW: kW,
    strideH: stride,
    strideW: stride,
    padH: padding,
    padW: padding,
    dilationH: 1,
    dilationW: 1,
    groups: 1,
  };
}

function passes(c: Conv, g: Conv2dGeometry, x: Tensor, w: Tensor, dy: Tensor, backend: WebGpuBackend): Pass[] {
  const taps = g.kernelH * g.kernelW;
  const { stride, padding } = c;
  // The rows and columns the forward's stride leaves over, restored by outputPadding.
  const leftover = (size: number, k: number) => (size + 2 * padding - k) % stride;
  const outputPadding: [number, number] = [leftover(g.inH, g.kernelH), leftover(g.inW, g.kernelW)];
  const attrs = { stride: [stride, stride], padding: [padding, padding], dilation: [1, 1], groups: 1, kernel: [g.kernelH, g.kernelW] };
  const list: Pass[] = [
    {
      name: 'forward',
      product: { rows: g.outChannels, cols: g.batch * g.outH * g.outW, depth: g.inChannels * taps },
      record: () => void conv2d(x, w, { stride, padding }),
    },
    {
      name: 'input gradient',
      product: { rows: g.inChannels, cols: g.batch * g.inH * g.inW, depth: g.outChannels * taps },
      record: () => void convTranspose2d(dy, w, { stride, padding, outputPadding }),
    },
    {
      name: 'weight gradient',
      product: { rows: g.outChannels, cols: g.inChannels * taps, depth: g.batch * g.outH * g.outW },
      record: () => {
        const splits = weightGradSplits(g, backend.traits);
        const partials = runOp('conv2dWeightGrad', [x, dy], { ...attrs, splits });
        if (splits > 1) sum(partials, 0);
      },
    },
  ];
  return c.inputGrad ? list : list.filter((p) => p.name !== 'input gradient');
}

function option(name: string): string | null {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? null) : null;
}

async function main(): Promise<void> {
  const started = performance.now();
  const allKinds = process.argv.includes('--kinds');
  const only = option('--only');
  const backend = await init();
  if (!(backend instanceof WebGpuBackend)) throw new Error(`bench:conv needs WebGPU, got ${backend.description}`);
  const { acquired } = backend;
  const peak = fp32Peak(acquired.adapterName);
  console.log(`adapter: ${acquired.adapterName}${acquired.software ? ' (software)' : ''}, ${acquired.runtime}, Node ${process.versions.node}`);
  console.log(`traits: ${JSON.stringify(backend.traits)}`);
  console.log('median (min, max) over samples×repetitions; ms per call at the median; cpu: CPU ms per call (all threads)\n');

  const copy = await copyBandwidth(backend.device);
  console.log(formatFigure(copy));
  const sync = () => backend.sync();
  const rows: Row[] = [];
  for (const c of CONVS) {
    if (only && !c.name.includes(only)) continue;
    const g = geometry(c);
    console.log(`\n${c.name}: [${c.input.join(', ')}] * [${c.weight.join(', ')}], stride ${c.stride}, padding ${c.padding}`);
    const x = rand(c.input, { seed: 1, low: -1, high: 1 });
    const w = rand(c.weight, { seed: 2, low: -1, high: 1 });
    const dy = rand([g.batch, g.outChannels, g.outH, g.outW], { seed: 4, low: -1, high: 1 });
    const flops = 2 * g.batch * g.outChannels * g.outH * g.outW * g.inChannels * g.kernelH * g.kernelW;
    const bytes = 4 * (x.size + w.size + dy.size);
    for (const pass of passes(c, g, x, w, dy, backend)) {
      const chosen = chooseKernel(pass.product, backend.traits);
      const kinds = allKinds ? [chosen, ...convKernelsOn(backend.traits).filter((k) => k !== chosen)] : [chosen];
      for (const kernel of kinds) {
        convKernelChoice.force = kernel === chosen ? null : kernel;
        try {
          let calls = 0;
          const cpu0 = process.cpuUsage();
          const run = await time(() => {
            calls++;
            tidy(pass.record);
          }, sync, { samples: 5, slowSamples: 3 });
          const cpu = process.cpuUsage(cpu0);
          const f = figure(`${pass.name}, ${kernel}${kernel === chosen ? ' (chosen)' : ''}`, 'GFLOP/s', flops, bytes, run, null);
          const cpuMs = (cpu.user + cpu.system) / 1000 / calls;
          console.log(`${formatFigure(f)}  cpu ${cpuMs.toFixed(1)} ms  ${ofPeak(f.median, peak)}`);
          rows.push({ ...f, conv: c.name, pass: pass.name, kernel, chosen: kernel === chosen, cpuMs });
        } finally {
          convKernelChoice.force = null;
        }
      }
    }
    for (const t of [x, w, dy]) t.dispose();
  }

  const step = rows.filter((r) => r.chosen && CONVS.find((c) => c.name === r.conv)?.modelS);
  if (step.length > 0) {
    const total = (key: 'ms' | 'cpuMs') => step.reduce((s, r) => s + r[key], 0);
    console.log(`\nmodel S, its convolutions' passes in one training step: ${total('ms').toFixed(0)} ms, cpu ${total('cpuMs').toFixed(0)} ms (${step.length} passes)`);
  }
  const seconds = (performance.now() - started) / 1000;
  if (peak) console.log(`\nFP32 peak ${peak.gflops} GFLOP/s: ${peak.source}`);
  console.log(`\n${seconds.toFixed(1)} s`);
  const results = { date: new Date().toISOString(), adapter: acquired.adapterName, software: acquired.software, runtime: `node ${process.versions.node}`, traits: backend.traits, copy, conv2d: rows, seconds };
  const file = resolve(option('--out') ?? join(dirname(fileURLToPath(import.meta.url)), 'results', 'conv2d.json'));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`results: ${file}`);
}

await main();
