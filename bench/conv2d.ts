// Convolution benchmark: forward and backward GFLOP/s of conv2d at small-CNN shapes, set beside
// the adapter's buffer-copy bandwidth, for the kernels chosen by shape (implicit-GEMM tiles or
// direct per-output kernels) and for the other kind. A program that prints figures, not a test.
// Run: pnpm bench:conv [--chosen]   (--chosen skips the other kind; writes bench/results/conv2d.json)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebGpuBackend, conv2d, convTranspose2d, init, rand, runOp, sum, tidy, type Tensor } from '../packages/core/src/index.ts';
import { chooseKernel, convKernelChoice, weightGradSplits, type Conv2dGeometry, type ConvKernel } from '../packages/core/src/kernels/conv2d.ts';
import { copyBandwidth, figure, formatFigure, time, type Figure } from './measure.ts';

interface Shape {
  input: [number, number, number, number];
  weight: [number, number, number, number];
  padding: number;
}

// 3x3 convolutions of a small CNN on 28 x 28 and 16 x 16 images, padded to keep the size.
const SHAPES: Shape[] = [
  { input: [32, 16, 28, 28], weight: [32, 16, 3, 3], padding: 1 },
  { input: [32, 1, 28, 28], weight: [16, 1, 3, 3], padding: 1 },
  { input: [8, 64, 16, 16], weight: [64, 64, 3, 3], padding: 1 },
];

/** One pass of a convolution: what it computes, its product's shape (which picks the kernel), its traffic. */
interface Pass {
  name: string;
  product: { rows: number; cols: number; depth: number };
  flops: number;
  /** The least bytes the pass reads and writes. */
  bytes: number;
  record: () => void;
}

interface Row extends Figure {
  shape: string;
  pass: string;
  kernel: ConvKernel | 'mixed';
  chosen: boolean;
}

function geometry({ input: [N, Cin, H, W], weight: [Cout, , kH, kW], padding }: Shape): Conv2dGeometry {
  const out = (size: number, k: number) => size + 2 * padding - k + 1;
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
    strideH: 1,
    strideW: 1,
    padH: padding,
    padW: padding,
    dilationH: 1,
    dilationW: 1,
    groups: 1,
  };
}

function passes(s: Shape, x: Tensor, w: Tensor, b: Tensor, dy: Tensor): Pass[] {
  const g = geometry(s);
  const taps = g.kernelH * g.kernelW;
  const macs = g.batch * g.outChannels * g.outH * g.outW * g.inChannels * taps;
  const [xBytes, wBytes, yBytes] = [4 * x.size, 4 * w.size, 4 * dy.size];
  const { padding } = s;
  const attrs = { stride: [1, 1], padding: [padding, padding], dilation: [1, 1], groups: 1, kernel: [g.kernelH, g.kernelW] };
  const weightGradient = () => {
    const splits = weightGradSplits(g);
    const partials = runOp('conv2dWeightGrad', [x, dy], { ...attrs, splits });
    if (splits > 1) sum(partials, 0);
  };
  const leaves = [x, w, b].map((t) => t.detach().requireGrad());
  return [
    {
      name: 'forward',
      product: { rows: g.outChannels, cols: g.batch * g.outH * g.outW, depth: g.inChannels * taps },
      flops: 2 * macs,
      bytes: xBytes + wBytes + yBytes,
      record: () => void conv2d(x, w, { bias: b, padding }),
    },
    {
      name: 'input gradient',
      product: { rows: g.inChannels, cols: g.batch * g.inH * g.inW, depth: g.outChannels * taps },
      flops: 2 * macs,
      bytes: yBytes + wBytes + xBytes,
      record: () => void convTranspose2d(dy, w, { padding }),
    },
    {
      name: 'weight gradient',
      product: { rows: g.outChannels, cols: g.inChannels * taps, depth: g.batch * g.outH * g.outW },
      flops: 2 * macs,
      bytes: xBytes + yBytes + wBytes,
      record: weightGradient,
    },
    {
      // Forward, input, weight and bias gradients through autograd, as a training step runs them.
      name: 'forward + backward',
      product: { rows: 0, cols: 0, depth: 0 },
      flops: 6 * macs,
      bytes: 3 * (xBytes + wBytes + yBytes),
      record: () => {
        const [xl, wl, bl] = leaves;
        conv2d(xl, wl, { bias: bl, padding }).backward(dy);
        for (const l of leaves) {
          l.grad?.dispose();
          l.grad = null;
        }
      },
    },
  ];
}

async function main(): Promise<void> {
  const started = performance.now();
  const chosenOnly = process.argv.includes('--chosen');
  const backend = await init();
  if (!(backend instanceof WebGpuBackend)) throw new Error(`bench:conv needs WebGPU, got ${backend.description}`);
  const { acquired } = backend;
  console.log(`adapter: ${acquired.adapterName}${acquired.software ? ' (software)' : ''}, ${acquired.runtime}, Node ${process.versions.node}`);
  console.log('median (min, max) over samples×repetitions, ms per repetition; traffic: the least bytes read + written, beside the copy bandwidth\n');

  const copy = await copyBandwidth(backend.device);
  console.log(formatFigure(copy));
  const copyBytesPerS = copy.median * 1e9;
  const sync = () => backend.sync();
  const rows: Row[] = [];
  for (const s of SHAPES) {
    const label = `[${s.input.join(', ')}] * [${s.weight.join(', ')}]`;
    console.log(`\n${label}, padding ${s.padding}`);
    const x = rand(s.input, { seed: 1, low: -1, high: 1 });
    const w = rand(s.weight, { seed: 2, low: -1, high: 1 });
    const b = rand([s.weight[0]], { seed: 3, low: -1, high: 1 });
    const dy = tidy(() => rand(conv2d(x, w, { padding: s.padding }).shape, { seed: 4, low: -1, high: 1 }));
    for (const pass of passes(s, x, w, b, dy)) {
      const training = pass.name === 'forward + backward';
      const chosen = training ? 'mixed' : chooseKernel(pass.product);
      const kinds: (ConvKernel | null)[] = training || chosenOnly ? [null] : [null, chosen === 'gemm' ? 'direct' : 'gemm'];
      for (const force of kinds) {
        convKernelChoice.force = force;
        try {
          const run = await time(() => tidy(pass.record), sync, { samples: 5, slowSamples: 3 });
          const kernel = force ?? chosen;
          const f = figure(`${pass.name}, ${kernel}${force ? '' : ' (chosen)'}`, 'GFLOP/s', pass.flops, pass.bytes, run, copyBytesPerS);
          console.log(formatFigure(f));
          rows.push({ ...f, shape: label, pass: pass.name, kernel, chosen: force === null });
        } finally {
          convKernelChoice.force = null;
        }
      }
    }
    for (const t of [x, w, b, dy]) t.dispose();
  }

  const seconds = (performance.now() - started) / 1000;
  console.log(`\n${seconds.toFixed(1)} s`);
  const results = { date: new Date().toISOString(), adapter: acquired.adapterName, software: acquired.software, runtime: `node ${process.versions.node}`, copy, conv2d: rows, seconds };
  const file = join(dirname(fileURLToPath(import.meta.url)), 'results', 'conv2d.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`results: ${file}`);
}

await main();
