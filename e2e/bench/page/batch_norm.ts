// Training-mode batch norm on one large activation, forward and forward+backward, in both
// frameworks: welford's fused `batchNorm` (NCHW) against TF.js's tf.moments + tf.batchNorm (NHWC)
// with the moving-average update tf.layers does. Effective GB/s counts one definition for
// both: forward = x read once + y written once; forward+backward adds x and dy read, dx written.
import * as tf from '@tensorflow/tfjs-core';
import { batchNorm, fromArray, ones, tidy, zeros, type Tensor } from '@welford/core';
import type { Side } from '../report.ts';
import { perRep, snapshot } from './counting.ts';
import { normals, toNhwc } from './data.ts';
import { repsFor, samplesFor, stat, timeSamples, type Plan } from './timing.ts';
import { backend } from './welford_side.ts';
import { tfSync } from './tf_side.ts';

export const BN_SHAPE = [32, 64, 32, 32] as const;
const EPS = 1e-5;

/** A pass to time: `record` records one call's GPU work, `sync` waits for everything recorded. */
interface Pass {
  record(): void;
  sync(): Promise<void>;
  ownDispatches?(): number;
}

/** Floats of minimal traffic per call: forward 2 (x in, y out), forward+backward 5 (also x, dy in, dx out). */
export const BN_FLOATS = { forward: 2, forwardBackward: 5 } as const;

/** Times one pass: warm-up, repetitions and samples chosen from the warm-up's speed; counts calls per repetition. */
async function measurePass(pass: Pass, plan: Plan, floats: number, copyGbps: number): Promise<Side> {
  let warmMs = 0;
  for (let i = 0; i < plan.callWarmup; i++) {
    const t0 = performance.now();
    pass.record();
    await pass.sync();
    warmMs = performance.now() - t0;
  }
  const perSample = repsFor(plan, warmMs);
  const samples = samplesFor(plan, warmMs);
  const from = snapshot();
  const ownFrom = pass.ownDispatches?.() ?? 0;
  const ms = await timeSamples(samples, perSample, async (r) => {
    for (let i = 0; i < r; i++) pass.record();
    await pass.sync();
  });
  const n = samples * perSample;
  const calls = perRep(from, n);
  const bytes = floats * BN_SHAPE.reduce((a, b) => a * b, 1) * 4;
  const gbps = stat(ms.map((t) => bytes / t / 1e6));
  return {
    ms: stat(ms),
    repsPerSample: perSample,
    dispatches: calls.dispatches,
    buffers: calls.buffers,
    ...(pass.ownDispatches ? { ownDispatches: (pass.ownDispatches() - ownFrom) / n } : {}),
    gbps,
    ofCopy: gbps.median / copyGbps,
  };
}

/**
 * welford's GPU time per call of `record` (timestamps at the start and end of the compute
 * passes the calls are recorded into, over `reps` calls), with the GB/s of `floats` of traffic;
 * or why there is none: the device cannot time passes, timings were dropped, or the figure is
 * implausible beside the wall-clock time of the same call (`wallMs`): not above zero, over
 * 1.5 times the wall clock, or faster than twice the copy bandwidth. The row's time figures are
 * wall-clock either way.
 */
async function gpuTime(record: () => void, reps: number, floats: number, copyGbps: number, wallMs: number): Promise<Side['gpu'] | string> {
  const b = backend();
  if (!b.canTimeDispatches) return 'no GPU timestamps (the adapter lacks timestamp-query): wall-clock only';
  b.startGpuTiming({ granularity: 'pass' });
  for (let i = 0; i < reps; i++) record();
  const { times, dropped } = await b.stopGpuTiming();
  if (dropped > 0 || times.length === 0) return `no GPU timestamps (${times.length} passes timed, ${dropped} dropped): wall-clock only`;
  const ms = times.reduce((a, t) => a + t.ns, 0) / reps / 1e6;
  const gbps = (floats * BN_SHAPE.reduce((a, c) => a * c, 1) * 4) / ms / 1e6;
  if (!(ms > 0) || ms > 1.5 * wallMs || gbps > 2 * copyGbps) {
    return `GPU timestamps implausible (${(ms * 1000).toPrecision(3)} µs per call against ${wallMs.toPrecision(3)} ms wall-clock): wall-clock only`;
  }
  return { ms, gbps, ofCopy: gbps / copyGbps };
}

export interface BnSides {
  forward: Side;
  forwardBackward: Side;
}

/** welford: batchNorm with weight, bias and running statistics, training mode. */
export async function welfordBatchNorm(plan: Plan, copyGbps: number, x0: Float32Array, dy0: Float32Array): Promise<BnSides> {
  const c = BN_SHAPE[1];
  const x = fromArray(x0, [...BN_SHAPE], { requiresGrad: true });
  const dy = fromArray(dy0, [...BN_SHAPE]);
  const weight = ones([c], { requiresGrad: true });
  const bias = zeros([c], { requiresGrad: true });
  const runningMean = zeros([c]);
  const runningVar = ones([c]);
  const leaves = [x, weight, bias];
  const clearGrads = () =>
    leaves.forEach((t) => {
      t.grad?.dispose();
      t.grad = null;
    });
  // realize(): the output is deferred until used (a following ReLU would fuse into it); this times the op itself.
  const forward = (): Tensor => batchNorm(x, { weight, bias, runningMean, runningVar, training: true, momentum: 0.1, eps: EPS }).realize();
  const b = backend();
  const common = { sync: () => b.sync(), ownDispatches: () => b.counters.dispatches };
  const recordForward = () => tidy(() => void forward());
  const recordBoth = () =>
    tidy(() => {
      clearGrads();
      forward().backward(dy);
    });
  const fwd = await measurePass({ ...common, record: recordForward }, plan, BN_FLOATS.forward, copyGbps);
  const both = await measurePass({ ...common, record: recordBoth }, plan, BN_FLOATS.forwardBackward, copyGbps);
  // Timestamps: 10 calls (at most 2048 dispatches are timed at once).
  const fwdGpu = await gpuTime(recordForward, 10, BN_FLOATS.forward, copyGbps, fwd.ms.median);
  const bothGpu = await gpuTime(recordBoth, 10, BN_FLOATS.forwardBackward, copyGbps, both.ms.median);
  if (typeof fwdGpu === 'string') fwd.gpuNote = fwdGpu;
  else fwd.gpu = fwdGpu;
  if (typeof bothGpu === 'string') both.gpuNote = bothGpu;
  else both.gpu = bothGpu;
  clearGrads();
  for (const t of [x, dy, weight, bias, runningMean, runningVar]) t.dispose();
  return { forward: fwd, forwardBackward: both };
}

/** TF.js: tf.moments over N, H, W + tf.batchNorm, moving averages updated as tf.layers does; backward by tf.grads w.r.t. x, scale, offset. */
export async function tfBatchNorm(plan: Plan, copyGbps: number, x0: Float32Array, dy0: Float32Array): Promise<BnSides> {
  const [n, c, h, w] = BN_SHAPE;
  const x = tf.tensor(toNhwc(x0, BN_SHAPE), [n, h, w, c]);
  const dy = tf.tensor(toNhwc(dy0, BN_SHAPE), [n, h, w, c]);
  const scale = tf.ones([c]);
  const offset = tf.zeros([c]);
  const movingMean = tf.variable(tf.zeros([c]), false);
  const movingVar = tf.variable(tf.ones([c]), false);
  const momentum = 0.9;
  const update = (v: tf.Variable, value: tf.Tensor) => v.assign(tf.sub(v, tf.mul(tf.sub(v, value), 1 - momentum)));
  const forward = (xi: tf.Tensor, s: tf.Tensor, o: tf.Tensor): tf.Tensor => {
    const { mean, variance } = tf.moments(xi, [0, 1, 2]);
    update(movingMean, mean);
    update(movingVar, variance);
    return tf.batchNorm(xi, mean, variance, o, s, EPS);
  };
  const grads = tf.grads((xi: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => forward(xi, s, o));
  const fwd = await measurePass({ sync: tfSync, record: () => tf.tidy(() => void forward(x, scale, offset)) }, plan, BN_FLOATS.forward, copyGbps);
  const both = await measurePass({ sync: tfSync, record: () => tf.tidy(() => void grads([x, scale, offset], dy)) }, plan, BN_FLOATS.forwardBackward, copyGbps);
  tf.dispose([x, dy, scale, offset, movingMean, movingVar]);
  return { forward: fwd, forwardBackward: both };
}

/** The input and upstream gradient both frameworks get (NCHW; TF.js transposes them). */
export function bnData(): { x: Float32Array; dy: Float32Array } {
  const size = BN_SHAPE.reduce((a, b) => a * b, 1);
  return { x: normals(size, 11), dy: normals(size, 12) };
}
