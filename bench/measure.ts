// Timing for the benchmark programs: medians over samples of repeated GPU work, and the
// buffer-copy bandwidth that throughput figures are set beside. Every bench/ program uses these.

export interface Figure {
  name: string;
  unit: 'GB/s' | 'GFLOP/s';
  median: number;
  min: number;
  max: number;
  /** Bytes read plus bytes written per second at the median, as a fraction of the copy bandwidth. */
  ofCopy: number | null;
  /** Milliseconds of one repetition at the median. */
  ms: number;
  reps: number;
  samples: number;
}

export interface TimingOptions {
  /** Samples taken (default 7; 3 where one repetition takes longer than `slowRepS`). */
  samples?: number;
  slowSamples?: number;
  slowRepS?: number;
  /** Each sample repeats the work until it lasts about this long (default 0.15 s). */
  targetSampleS?: number;
  maxReps?: number;
}

export interface Timing {
  /** Seconds of one repetition, per sample. */
  seconds: number[];
  reps: number;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Times repetitions of `record` (which only records GPU work) followed by `sync` (which
 * waits for it), after a warm-up; picks the repetitions per sample so that one sample lasts
 * about `targetSampleS`, so timer resolution and launch cost fade.
 */
export async function time(record: () => void, sync: () => Promise<void>, options: TimingOptions = {}): Promise<Timing> {
  const { samples = 7, slowSamples = 3, slowRepS = 1, targetSampleS = 0.15, maxReps = 200 } = options;
  const once = async (reps: number): Promise<number> => {
    await sync();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) record();
    await sync();
    return (performance.now() - t0) / 1000;
  };
  await once(1); // warm-up: pipelines, pooled buffers, first touch of memory
  const probe = await once(1);
  const reps = Math.max(1, Math.min(maxReps, Math.round(targetSampleS / Math.max(probe, 1e-6))));
  const count = probe > slowRepS ? slowSamples : samples;
  const seconds: number[] = [];
  for (let s = 0; s < count; s++) seconds.push((await once(reps)) / reps);
  return { seconds, reps };
}

/** A figure from a timing: `work` units (bytes or flops) and `bytes` moved per repetition. */
export function figure(name: string, unit: Figure['unit'], work: number, bytes: number, run: Timing, copyBytesPerS: number | null): Figure {
  const rates = run.seconds.map((s) => work / s / 1e9);
  const seconds = median(run.seconds);
  return {
    name,
    unit,
    median: median(rates),
    min: Math.min(...rates),
    max: Math.max(...rates),
    ofCopy: copyBytesPerS ? bytes / seconds / copyBytesPerS : null,
    ms: seconds * 1000,
    reps: run.reps,
    samples: run.seconds.length,
  };
}

/** copyBufferToBuffer between two buffers of `bytes`, all repetitions of a sample in one submit; counts bytes read + written. */
export async function copyBandwidth(device: GPUDevice, bytes = 64 * 2 ** 20): Promise<Figure> {
  const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | GPUBufferUsage.STORAGE;
  const src = device.createBuffer({ size: bytes, usage });
  const dst = device.createBuffer({ size: bytes, usage });
  let encoder: GPUCommandEncoder | null = null;
  const run = await time(
    () => {
      encoder ??= device.createCommandEncoder();
      encoder.copyBufferToBuffer(src, 0, dst, 0, bytes);
    },
    async () => {
      if (encoder) device.queue.submit([encoder.finish()]);
      encoder = null;
      await device.queue.onSubmittedWorkDone();
    },
  );
  src.destroy();
  dst.destroy();
  return figure(`copyBufferToBuffer ${bytes / 2 ** 20} MiB`, 'GB/s', 2 * bytes, 2 * bytes, run, null);
}

/** One line: name, median rate, (min, max), samples×repetitions, ms per repetition, share of copy bandwidth. */
export function formatFigure(f: Figure, nameWidth = 44): string {
  const percent = f.ofCopy === null ? '' : (f.ofCopy * 100).toFixed(f.ofCopy < 0.01 ? 2 : 1);
  const beside = f.ofCopy === null ? '' : `traffic ${percent.padStart(5)}% of copy`;
  const range = `(min ${f.min.toFixed(2)}, max ${f.max.toFixed(2)})`;
  const counts = `${f.samples}×${f.reps}`;
  const ms = `${f.ms.toFixed(1)} ms`;
  return `  ${f.name.padEnd(nameWidth)} ${f.median.toFixed(3).padStart(9)} ${f.unit.padEnd(7)} ${range.padEnd(26)} ${counts.padEnd(6)} ${ms.padStart(11)}  ${beside}`;
}
