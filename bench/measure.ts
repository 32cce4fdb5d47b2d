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

/** Times what `record` encodes, all repetitions of a sample in one command buffer and submit. */
function timeEncoded(device: GPUDevice, record: (encoder: GPUCommandEncoder) => void): Promise<Timing> {
  let encoder: GPUCommandEncoder | null = null;
  return time(
    () => record((encoder ??= device.createCommandEncoder())),
    async () => {
      if (encoder) device.queue.submit([encoder.finish()]);
      encoder = null;
      await device.queue.onSubmittedWorkDone();
    },
  );
}

/** copyBufferToBuffer between two buffers of `bytes`, all repetitions of a sample in one submit; counts bytes read + written. */
export async function copyBandwidth(device: GPUDevice, bytes = 64 * 2 ** 20): Promise<Figure> {
  const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | GPUBufferUsage.STORAGE;
  const src = device.createBuffer({ size: bytes, usage });
  const dst = device.createBuffer({ size: bytes, usage });
  const run = await timeEncoded(device, (encoder) => encoder.copyBufferToBuffer(src, 0, dst, 0, bytes));
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

// A plain copy kernel with vec4 loads and stores: the most a compute pass moves on the adapter,
// beside which a kernel's effective GB/s is read (on a software adapter it is a small fraction
// of copyBufferToBuffer, which is a memcpy there). The browser benchmark has the same kernel.
const COPY_KERNEL = `
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i < arrayLength(&dst)) { dst[i] = src[i]; }
}`;

/** The copy kernel above over `bytes` (a multiple of 16), all repetitions of a sample in one submit; counts bytes read + written. */
export async function kernelCopyBandwidth(device: GPUDevice, bytes: number): Promise<Figure> {
  const module = device.createShaderModule({ code: COPY_KERNEL });
  const layout = device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } },
      { binding: 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } },
    ],
  });
  const pipeline = device.createComputePipeline({ layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }), compute: { module, entryPoint: 'main' } });
  const src = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE });
  const dst = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE });
  const bindGroup = device.createBindGroup({ layout, entries: [{ binding: 0, resource: { buffer: src } }, { binding: 1, resource: { buffer: dst } }] });
  const groups = Math.ceil(bytes / 16 / 256);
  const [x, y] = groups > 65535 ? [65535, Math.ceil(groups / 65535)] : [groups, 1];
  const run = await timeEncoded(device, (encoder) => {
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
    pass.end();
  });
  src.destroy();
  dst.destroy();
  return figure(`WGSL copy kernel ${(bytes / 2 ** 20).toFixed(1)} MiB`, 'GB/s', 2 * bytes, 2 * bytes, run, null);
}
