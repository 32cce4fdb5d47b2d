// Micro-benchmark: prints the adapter, its buffer-copy bandwidth, and elementwise and matmul
// throughput set beside that bandwidth. A program that prints figures, not a test.
// Run: pnpm bench:micro   (writes bench/results/micro.json as well)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as core from '../packages/core/src/index.ts';
import { WebGpuBackend, add, exp, init, rand, tidy, type Tensor } from '../packages/core/src/index.ts';

type Matmul = (a: Tensor, b: Tensor) => Tensor;
/** `matmul` when this build of core exports it; the section is reported missing otherwise. */
const matmul: Matmul | null = 'matmul' in core && typeof core.matmul === 'function' ? (core.matmul as Matmul) : null;

const SAMPLES = 7;
/** Fewer samples where one repetition takes longer than SLOW_REP_S, to keep the whole run short. */
const SLOW_SAMPLES = 3;
const SLOW_REP_S = 1;
/** Each sample repeats the work until it takes about this long, so timer resolution and launch cost fade. */
const TARGET_SAMPLE_S = 0.15;
const MAX_REPS = 200;
const COPY_BYTES = 64 * 2 ** 20;
const ELEMENTWISE_SIZE = 4 * 2 ** 20;
const MATMUL_SIZES = [128, 256, 257, 512];

interface Figure {
  name: string;
  unit: 'GB/s' | 'GFLOP/s';
  median: number;
  min: number;
  max: number;
  /** Bytes read plus bytes written per second at the median, as a fraction of the copy bandwidth. */
  ofCopy: number | null;
  reps: number;
  samples: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Times `reps` repetitions of `record` (which only records GPU work) followed by `sync` (which
 * waits for it), after a warm-up; picks `reps` so that one sample lasts about TARGET_SAMPLE_S.
 * Returns the seconds of one repetition, per sample.
 */
async function time(record: () => void, sync: () => Promise<void>): Promise<{ seconds: number[]; reps: number }> {
  const once = async (reps: number): Promise<number> => {
    await sync();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) record();
    await sync();
    return (performance.now() - t0) / 1000;
  };
  await once(1); // warm-up: pipelines, pooled buffers, first-touch of memory
  const probe = await once(1);
  const reps = Math.max(1, Math.min(MAX_REPS, Math.round(TARGET_SAMPLE_S / Math.max(probe, 1e-6))));
  const samples = probe > SLOW_REP_S ? SLOW_SAMPLES : SAMPLES;
  const seconds: number[] = [];
  for (let s = 0; s < samples; s++) seconds.push((await once(reps)) / reps);
  return { seconds, reps };
}

/** A figure from per-repetition seconds: `work` units per repetition (bytes or flops), `bytes` moved per repetition. */
function figure(name: string, unit: Figure['unit'], work: number, bytes: number, run: { seconds: number[]; reps: number }, copyBytesPerS: number | null): Figure {
  const rates = run.seconds.map((s) => work / s / 1e9);
  const bytesPerS = bytes / median(run.seconds);
  return {
    name,
    unit,
    median: median(rates),
    min: Math.min(...rates),
    max: Math.max(...rates),
    ofCopy: copyBytesPerS ? bytesPerS / copyBytesPerS : null,
    reps: run.reps,
    samples: run.seconds.length,
  };
}

/** copyBufferToBuffer between two large buffers, all repetitions of a sample in one submit. */
async function copyBandwidth(device: GPUDevice): Promise<Figure> {
  const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | GPUBufferUsage.STORAGE;
  const src = device.createBuffer({ size: COPY_BYTES, usage });
  const dst = device.createBuffer({ size: COPY_BYTES, usage });
  let encoder: GPUCommandEncoder | null = null;
  const run = await time(
    () => {
      encoder ??= device.createCommandEncoder();
      encoder.copyBufferToBuffer(src, 0, dst, 0, COPY_BYTES);
    },
    async () => {
      if (encoder) device.queue.submit([encoder.finish()]);
      encoder = null;
      await device.queue.onSubmittedWorkDone();
    },
  );
  src.destroy();
  dst.destroy();
  // A copy reads and writes every byte once: count both, as for the ops below.
  return figure(`copyBufferToBuffer ${mib(COPY_BYTES)}`, 'GB/s', 2 * COPY_BYTES, 2 * COPY_BYTES, run, null);
}

async function elementwise(backend: WebGpuBackend, copy: number): Promise<Figure[]> {
  const n = ELEMENTWISE_SIZE;
  const x = rand([n], { seed: 1 });
  const y = rand([n], { seed: 2 });
  const sync = () => backend.sync();
  const unary = await time(() => tidy(() => void exp(x)), sync);
  const binary = await time(() => tidy(() => void add(x, y)), sync);
  x.dispose();
  y.dispose();
  const label = `${(n / 2 ** 20).toFixed(0)}M floats`;
  return [
    figure(`exp, ${label} (read 1, write 1)`, 'GB/s', 8 * n, 8 * n, unary, copy),
    figure(`add, ${label} (read 2, write 1)`, 'GB/s', 12 * n, 12 * n, binary, copy),
  ];
}

async function matmuls(backend: WebGpuBackend, mm: Matmul, copy: number): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const n of MATMUL_SIZES) {
    const a = rand([n, n], { seed: n });
    const b = rand([n, n], { seed: n + 1 });
    const run = await time(() => tidy(() => void mm(a, b)), () => backend.sync());
    a.dispose();
    b.dispose();
    // The least traffic a matmul needs (read A and B, write C), set beside the copy bandwidth.
    out.push(figure(`matmul ${n}×${n} · ${n}×${n}`, 'GFLOP/s', 2 * n ** 3, 3 * 4 * n * n, run, copy));
  }
  return out;
}

function mib(bytes: number): string {
  return `${bytes / 2 ** 20} MiB`;
}

function print(f: Figure): void {
  const percent = f.ofCopy === null ? '' : (f.ofCopy * 100).toFixed(f.ofCopy < 0.01 ? 2 : 0);
  const beside = f.ofCopy === null ? '' : `traffic ${percent.padStart(5)}% of copy`;
  const range = `(min ${f.min.toFixed(2)}, max ${f.max.toFixed(2)})`;
  const counts = `${f.samples}×${f.reps}`;
  console.log(`  ${f.name.padEnd(34)} ${f.median.toFixed(2).padStart(9)} ${f.unit.padEnd(7)} ${range.padEnd(26)} ${counts.padEnd(6)}${beside}`);
}

async function main(): Promise<void> {
  const started = performance.now();
  const backend = await init();
  if (!(backend instanceof WebGpuBackend)) throw new Error(`bench:micro needs WebGPU, got ${backend.description}`);
  const { acquired } = backend;
  console.log(`adapter: ${acquired.adapterName}${acquired.software ? ' (software)' : ''}, ${acquired.runtime}, Node ${process.versions.node}`);
  console.log(`median (min, max) over samples×repetitions; bandwidths count bytes read + written\n`);

  const copy = await copyBandwidth(backend.device);
  print(copy);
  const copyBytesPerS = copy.median * 1e9;
  const ops = await elementwise(backend, copyBytesPerS);
  ops.forEach(print);
  let mm: Figure[] | { missing: string };
  if (matmul) {
    mm = await matmuls(backend, matmul, copyBytesPerS);
    mm.forEach(print);
  } else {
    mm = { missing: '@welford/core does not export matmul in this build' };
    console.log(`  matmul: not measured: ${mm.missing}`);
  }

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
    seconds,
  };
  const file = join(dirname(fileURLToPath(import.meta.url)), 'results', 'micro.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`results: ${file}`);
}

await main();
