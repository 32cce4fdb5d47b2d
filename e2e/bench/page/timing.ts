// Sampling plans and statistics for the benchmark page: every figure is a median over samples,
// with the min and max beside it.
import type { Stat } from '../report.ts';

/** Samples of the training figures: (a) one readback per step, (b) `pipelinedSteps` steps per readback. */
export interface TrainingChoice {
  samples: number;
  pipelinedSamples: number;
  pipelinedSteps: number;
}

/** How much each figure samples. */
export interface Plan {
  quick: boolean;
  /** Untimed training steps first: the first compiles pipelines, the second finds the buffer pools filled. */
  warmup: number;
  /** Untimed calls before a batch-norm figure. */
  callWarmup: number;
  /** Timed samples of the copy and batch-norm figures (3 where one repetition takes over a second, in full mode). */
  samples: number;
  /** Training layouts from the most samples to the fewest; the first that fits `trainingBudgetMs` is taken. */
  training: TrainingChoice[];
  /** Timed training steps of one framework on one model should take about this long at most. */
  trainingBudgetMs: number;
  /** Repetitions per sample are chosen so a sample lasts about this long (at least one). */
  targetSampleMs: number;
  maxReps: number;
}

/** Quick mode: the timed steps of one framework on one model that still get 2 samples of one step. */
const QUICK_TRAINING_BUDGET_MS = 40_000;
/** Quick mode: a batch-norm call slower than this gets one sample. */
const QUICK_SLOW_CALL_MS = 5_000;

/**
 * Full mode: 7 samples and 20 pipelined steps where a step is fast (a hardware GPU), 5 of 10 in
 * between, and 3 of 4 where a step takes seconds (SwiftShader), which keeps a SwiftShader run
 * within about 15 minutes. Quick mode: 2 warm-up steps, 2 samples of one step and one of two
 * pipelined steps, or 1 and 1 where those 4 steps would take over 40 s (TF.js's ResNet-8 on
 * SwiftShader); batch norm 2 samples, 1 where a call takes over 5 s. So the slowest steps on
 * SwiftShader still fit a few minutes in each browser: real work, every row printed, no speed judged.
 */
export function makePlan(quick: boolean): Plan {
  return quick
    ? {
        quick,
        warmup: 2,
        callWarmup: 1,
        samples: 2,
        training: [
          { samples: 2, pipelinedSamples: 1, pipelinedSteps: 2 },
          { samples: 1, pipelinedSamples: 1, pipelinedSteps: 2 },
        ],
        trainingBudgetMs: QUICK_TRAINING_BUDGET_MS,
        targetSampleMs: 50,
        maxReps: 20,
      }
    : {
        quick,
        warmup: 2,
        callWarmup: 2,
        samples: 7,
        training: [
          { samples: 7, pipelinedSamples: 7, pipelinedSteps: 20 },
          { samples: 5, pipelinedSamples: 5, pipelinedSteps: 10 },
          { samples: 3, pipelinedSamples: 3, pipelinedSteps: 4 },
        ],
        trainingBudgetMs: 90_000,
        targetSampleMs: 200,
        maxReps: 50,
      };
}

/** Samples of a copy or batch-norm figure whose repetition takes `repMs`. */
export function samplesFor(plan: Plan, repMs: number): number {
  if (plan.quick) return repMs > QUICK_SLOW_CALL_MS ? 1 : plan.samples;
  return repMs > 1000 ? 3 : plan.samples;
}

/** Repetitions per sample so that one sample lasts about `plan.targetSampleMs`. */
export function repsFor(plan: Plan, repMs: number): number {
  return Math.max(1, Math.min(plan.maxReps, Math.round(plan.targetSampleMs / Math.max(repMs, 1e-3))));
}

export function stat(values: readonly number[]): Stat {
  const sorted = [...values].sort((a, b) => a - b);
  const m = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], values: [...values] };
}

/** Milliseconds per repetition of each sample: `sample(reps)` runs `reps` repetitions and waits for the GPU. */
export async function timeSamples(samples: number, reps: number, sample: (reps: number) => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now();
    await sample(reps);
    out.push((performance.now() - t0) / reps);
  }
  return out;
}

/**
 * GB/s (bytes read + written) of copying `bytes` between two buffers of `usage`: `record`
 * encodes `reps` copies; each sample is one submit, waited for. After a warm-up, samples of
 * about 150 ms.
 */
async function copyRate(device: GPUDevice, plan: Plan, bytes: number, usage: GPUBufferUsageFlags, record: (encoder: GPUCommandEncoder, src: GPUBuffer, dst: GPUBuffer, reps: number) => void): Promise<Stat> {
  const src = device.createBuffer({ size: bytes, usage });
  const dst = device.createBuffer({ size: bytes, usage });
  const sample = async (reps: number) => {
    const encoder = device.createCommandEncoder();
    record(encoder, src, dst, reps);
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  try {
    await sample(1);
    const t0 = performance.now();
    await sample(1);
    const reps = repsFor({ ...plan, targetSampleMs: 150 }, performance.now() - t0);
    const ms = await timeSamples(plan.samples, reps, sample);
    return stat(ms.map((t) => (2 * bytes) / t / 1e6));
  } finally {
    src.destroy();
    dst.destroy();
  }
}

/** copyBufferToBuffer of `bytes` between two buffers on `device`, a sample's copies in one submit; GB/s of bytes read + written. */
export async function copyBandwidth(device: GPUDevice, plan: Plan, bytes = 64 * 2 ** 20): Promise<Stat> {
  return copyRate(device, plan, bytes, GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, (encoder, src, dst, reps) => {
    for (let i = 0; i < reps; i++) encoder.copyBufferToBuffer(src, 0, dst, 0, bytes);
  });
}

// A plain copy kernel with vec4 loads and stores: the most a compute pass moves on the adapter,
// beside which the effective GB/s of a kernel can be read (on a software adapter it is a small
// fraction of copyBufferToBuffer, which is a memcpy there).
const COPY_KERNEL = `
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i < arrayLength(&dst)) { dst[i] = src[i]; }
}`;

/** The copy kernel above over `bytes`, a sample's dispatches in one submit; GB/s of bytes read + written. */
export async function kernelCopyBandwidth(device: GPUDevice, plan: Plan, bytes = 64 * 2 ** 20): Promise<Stat> {
  const module = device.createShaderModule({ code: COPY_KERNEL });
  const layout = device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } },
      { binding: 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } },
    ],
  });
  const pipeline = device.createComputePipeline({ layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }), compute: { module, entryPoint: 'main' } });
  const groups = Math.ceil(bytes / 16 / 256);
  const [x, y] = groups > 65535 ? [65535, Math.ceil(groups / 65535)] : [groups, 1];
  let bindGroup: GPUBindGroup | null = null;
  return copyRate(device, plan, bytes, GPUBufferUsage.STORAGE, (encoder, src, dst, reps) => {
    bindGroup ??= device.createBindGroup({ layout, entries: [{ binding: 0, resource: { buffer: src } }, { binding: 1, resource: { buffer: dst } }] });
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    for (let i = 0; i < reps; i++) pass.dispatchWorkgroups(x, y);
    pass.end();
  });
}
