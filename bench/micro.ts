// Micro-benchmark: prints the adapter, its buffer-copy bandwidth, and elementwise and matmul
// throughput set beside that bandwidth. A program that prints figures, not a test.
// Run: pnpm bench:micro [--large]   (writes bench/results/micro.json as well)
// --large also measures copies and elementwise ops on 512 MiB tensors, well above any GPU's
// last-level cache, where the figures measure memory rather than cache.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebGpuBackend, add, exp, init, matmul, rand, tidy } from '../packages/core/src/index.ts';
import { copyBandwidth, figure, formatFigure, kernelCopyBandwidth, time, type Figure } from './measure.ts';
import { fp32Peak, ofPeak } from './peaks.ts';

const LARGE = process.argv.includes('--large');
/** Floats of the elementwise tensors: 16 MiB, and 512 MiB with --large. */
const ELEMENTWISE_SIZES = LARGE ? [4 * 2 ** 20, 128 * 2 ** 20] : [4 * 2 ** 20];
const MATMUL_SIZES = [128, 256, 257, 512];

/** copyBufferToBuffer and the plain WGSL copy kernel on `n` floats; exp and add set beside the first. */
async function elementwise(backend: WebGpuBackend, n: number): Promise<Figure[]> {
  const bufferCopy = await copyBandwidth(backend.device, 4 * n);
  const copy = bufferCopy.median * 1e9;
  const x = rand([n], { seed: 1 });
  const y = rand([n], { seed: 2 });
  const sync = () => backend.sync();
  const unary = await time(() => tidy(() => void exp(x)), sync);
  const binary = await time(() => tidy(() => void add(x, y)), sync);
  x.dispose();
  y.dispose();
  const label = `${(n / 2 ** 20).toFixed(0)}M floats`;
  return [
    bufferCopy,
    await kernelCopyBandwidth(backend.device, 4 * n),
    figure(`exp, ${label} (read 1, write 1)`, 'GB/s', 8 * n, 8 * n, unary, copy),
    figure(`add, ${label} (read 2, write 1)`, 'GB/s', 12 * n, 12 * n, binary, copy),
  ];
}

async function matmuls(backend: WebGpuBackend, copy: number): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const n of MATMUL_SIZES) {
    const a = rand([n, n], { seed: n });
    const b = rand([n, n], { seed: n + 1 });
    const run = await time(() => tidy(() => void matmul(a, b)), () => backend.sync());
    a.dispose();
    b.dispose();
    // The least traffic a matmul needs (read A and B, write C), set beside the copy bandwidth.
    out.push(figure(`matmul ${n}×${n} · ${n}×${n}`, 'GFLOP/s', 2 * n ** 3, 3 * 4 * n * n, run, copy));
  }
  return out;
}

async function main(): Promise<void> {
  const started = performance.now();
  const backend = await init();
  if (!(backend instanceof WebGpuBackend)) throw new Error(`bench:micro needs WebGPU, got ${backend.description}`);
  const { acquired } = backend;
  console.log(`adapter: ${acquired.adapterName}${acquired.software ? ' (software)' : ''}, ${acquired.runtime}, Node ${process.versions.node}`);
  console.log(`median (min, max) over samples×repetitions; bandwidths count bytes read + written\n`);

  const copy = await copyBandwidth(backend.device);
  console.log(formatFigure(copy));
  const copyBytesPerS = copy.median * 1e9;
  const ops: Figure[] = [];
  for (const n of ELEMENTWISE_SIZES) ops.push(...(await elementwise(backend, n)));
  const mm = await matmuls(backend, copyBytesPerS);
  for (const f of ops) console.log(formatFigure(f));
  const peak = fp32Peak(acquired.adapterName);
  for (const f of mm) console.log(`${formatFigure(f)}  ${ofPeak(f.median, peak)}`);
  if (peak) console.log(`  (FP32 peak ${peak.gflops} GFLOP/s: ${peak.source})`);

  const seconds = (performance.now() - started) / 1000;
  console.log(`\n${seconds.toFixed(1)} s`);
  const results = {
    date: new Date().toISOString(),
    adapter: acquired.adapterName,
    software: acquired.software,
    runtime: `node ${process.versions.node}`,
    copy,
    elementwise: ops,
    matmul: mm,
    fp32PeakGflops: peak?.gflops ?? null,
    seconds,
  };
  const file = join(dirname(fileURLToPath(import.meta.url)), 'results', 'micro.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`results: ${file}`);
}

await main();
