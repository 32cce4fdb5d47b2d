// Batch norm and group norm, forward and forward+backward, at the shapes CNNs use: GB/s of the
// smallest traffic each pass needs, beside the bandwidth of a plain WGSL copy kernel on a tensor
// of the same size (measured in the same run, so both sit in the same level of the memory
// hierarchy), and the dispatches each call records. A program that prints figures, not a test.
//   pnpm bench:norm [--large [MiB]]
// --large adds a shape of about 512 MiB (or the size given), well above any GPU's last-level
// cache (an H100 has 50 MB), where the figures measure memory, not cache. On a software adapter
// it takes minutes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebGpuBackend, batchNorm, groupNorm, init, ones, randn, tidy, zeros } from '../packages/core/src/index.ts';
import { copyBandwidth, figure, formatFigure, kernelCopyBandwidth, time, type Figure } from './measure.ts';

const SHAPES: [number, number, number, number][] = [
  [32, 64, 32, 32],
  [8, 256, 16, 16],
  [2, 32, 128, 128],
];

const largeArg = process.argv.indexOf('--large');
if (largeArg > 0) {
  const mib = Number(process.argv[largeArg + 1] ?? 512);
  const mibOrDefault = Number.isFinite(mib) && mib > 0 ? mib : 512;
  // [N, 64, 64, 64]: 1 MiB per image.
  SHAPES.push([Math.max(1, Math.round(mibOrDefault)), 64, 64, 64]);
}

interface Case {
  name: string;
  /** Floats the pass must at least move: forward reads x and writes y; backward also reads x and dy and writes dx. */
  floats: number;
  figure: Figure;
  dispatches: number;
}

async function measure(backend: WebGpuBackend, name: string, floats: number, record: () => void, copyBytesPerS: number): Promise<Case> {
  const before = backend.counters.dispatches;
  record();
  const dispatches = backend.counters.dispatches - before;
  const run = await time(record, () => backend.sync(), { samples: 5, targetSampleS: 0.3, maxReps: 20 });
  return { name, floats, dispatches, figure: figure(name, 'GB/s', floats * 4, floats * 4, run, copyBytesPerS) };
}

async function main(): Promise<void> {
  const backend = await init();
  if (!(backend instanceof WebGpuBackend)) throw new Error(`bench:norm needs WebGPU, got ${backend.description}`);
  const { acquired } = backend;
  console.log(`adapter: ${acquired.adapterName}${acquired.software ? ' (software)' : ''}, ${acquired.runtime}`);
  console.log('median (min, max) over samples×repetitions; GB/s of the minimum traffic (forward: x in, y out; backward adds x, dy in, dx out);');
  console.log('each norm case is set beside a plain WGSL copy kernel over a tensor of its size\n');
  const copy = await copyBandwidth(backend.device);
  console.log(formatFigure(copy));
  const cases: Case[] = [];
  const copies: Figure[] = [];
  for (const shape of SHAPES) {
    const [, c] = shape;
    const size = shape.reduce((a, b) => a * b, 1);
    const x = randn(shape, { seed: 1, requiresGrad: true });
    const label = `[${shape.join(', ')}]`;
    // A plain WGSL copy kernel over a tensor of this size: what the norm kernels' traffic is set beside.
    const kernelCopy = await kernelCopyBandwidth(backend.device, 4 * size);
    copies.push(kernelCopy);
    const kernelBytesPerS = kernelCopy.median * 1e9;
    const dy = randn(shape, { seed: 2 });
    const weight = ones([c], { requiresGrad: true });
    const bias = zeros([c], { requiresGrad: true });
    const runningMean = zeros([c]);
    const runningVar = ones([c]);
    const leaves = [x, weight, bias];
    const clearGrads = () => leaves.forEach((t) => {
      t.grad?.dispose();
      t.grad = null;
    });
    // realize(): a norm's output is deferred until used (a following ReLU would fuse into it); these time the op itself.
    const bn = () => batchNorm(x, { weight, bias, runningMean, runningVar, training: true }).realize();
    const gn = () => groupNorm(x, 8, { weight, bias }).realize();
    for (const [norm, forward] of [['batchNorm', bn], ['groupNorm(8)', gn]] as const) {
      cases.push(await measure(backend, `${norm} forward ${label}`, 2 * size, () => tidy(() => void forward()), kernelBytesPerS));
      cases.push(
        await measure(backend, `${norm} fwd+bwd ${label}`, 5 * size, () =>
          tidy(() => {
            clearGrads();
            forward().backward(dy);
          }),
          kernelBytesPerS,
        ),
      );
    }
    clearGrads();
    for (const t of [x, dy, weight, bias, runningMean, runningVar]) t.dispose();
    console.log(`measured ${label}`);
  }
  console.log('');
  for (const c of copies) console.log(formatFigure(c, 40));
  for (const c of cases) console.log(`${formatFigure(c.figure, 40)}  ${c.dispatches} dispatches`);
  const results = { date: new Date().toISOString(), adapter: acquired.adapterName, software: acquired.software, copy, kernelCopies: copies, cases };
  const file = join(dirname(fileURLToPath(import.meta.url)), 'results', 'norm.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`results: ${file}`);
}

await main();
