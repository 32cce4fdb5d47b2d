// What the benchmark page publishes on `window.welfordBench` for the driver to print and save.
// Shared by the page (which fills it) and run.ts (which checks and formats it).
import { parseJsonText, toJsonText } from '@welford/stats';

/** Median, min and max of some samples, and the samples themselves. */
export interface Stat {
  median: number;
  min: number;
  max: number;
  values: number[];
}

/** One framework's figures for one row. */
export interface Side {
  /** Milliseconds per training step, or per call for the batch-norm rows. */
  ms: Stat;
  /** Repetitions (steps or calls) timed together in one sample. */
  repsPerSample: number;
  /** `dispatchWorkgroups` + `dispatchWorkgroupsIndirect` calls per repetition, counted in the page. */
  dispatches: number;
  /** `GPUDevice.createBuffer` calls per repetition, after warm-up. */
  buffers: number;
  /** welford's own dispatch counter per repetition (`WebGpuBackend.counters`), to cross-check `dispatches`. */
  ownDispatches?: number;
  /** Effective GB/s (batch-norm rows): bytes of the minimal traffic / time. */
  gbps?: Stat;
  /** The median GB/s as a fraction of the copy bandwidth measured in the same run. */
  ofCopy?: number;
  /**
   * welford's batch-norm rows, where the device has 'timestamp-query': the GPU time of one call
   * (timestamps around the compute passes of 10 calls, `WebGpuBackend.startGpuTiming`), the GB/s that makes,
   * and that as a fraction of the copy bandwidth: the kernels' speed without the host's overhead.
   */
  gpu?: { ms: number; gbps: number; ofCopy: number };
  /** welford's batch-norm rows without `gpu`: why (no timestamp-query, dropped, or implausible timestamps); the row is wall-clock only. */
  gpuNote?: string;
}

/** Row ids every complete run has: `pnpm bench` fails when one is missing. */
export const ROW_IDS = [
  'modelS.perStep',
  'modelS.pipelined',
  'modelSGroup.perStep',
  'modelSGroup.pipelined',
  'resnet8.perStep',
  'resnet8.pipelined',
  'resnet18.perStep',
  'resnet18.pipelined',
  'batchNorm.forward',
  'batchNorm.forwardBackward',
] as const;

export type RowId = (typeof ROW_IDS)[number];

/** One benchmark figure for both frameworks; `tfjs` is null where TF.js has no equivalent (`tfjsNote` says why). */
export interface Row {
  id: RowId;
  name: string;
  welford: Side;
  tfjs: Side | null;
  tfjsNote?: string;
}

/** Both frameworks' loss at the first step (same weights, same data) and after the timed steps. */
export interface LossCheck {
  model: string;
  welfordFirst: number;
  tfjsFirst: number | null;
  /** Whether the first-step losses agree to 1e-3 (relative to max(1, |loss|)). */
  agree: boolean | null;
  welfordLast: number;
  tfjsLast: number | null;
  /** Steps taken by each framework before the last loss. */
  steps: number;
}

export interface BenchReport {
  quick: boolean;
  /** GPUAdapterInfo of the adapter welford used. */
  adapter: { vendor: string; architecture: string; device: string; description: string };
  software: boolean;
  userAgent: string;
  /** copyBufferToBuffer of a large buffer on welford's device: GB/s of bytes read + written. */
  copy: { bytes: number; gbps: Stat };
  /** A WGSL copy kernel (vec4 loads and stores) over the same bytes on welford's device: what a compute pass can move. */
  kernelCopy: { bytes: number; gbps: Stat };
  rows: Row[];
  losses: LossCheck[];
  /** How the TF.js side differs from welford's, per benchmark. */
  notes: string[];
  /** What TF.js failed on (its rows then say so, welford's figures are all there); absent when it ran everywhere. */
  tfjsFailures?: string[];
  /** Set when the page failed; the other fields hold what was measured before. */
  error?: string;
}

/**
 * The report as the page publishes it: one JSON string, non-finite numbers as strings. A string,
 * because WebDriver BiDi (Firefox's protocol) passes an object met twice in a returned value as a
 * reference, which Puppeteer reads as undefined; JSON, because it would also turn NaN into null.
 */
export function encodeReport(report: BenchReport): string {
  return toJsonText(report);
}

/** The report from `encodeReport`'s string. */
export function decodeReport(text: string): BenchReport {
  return parseJsonText(text) as BenchReport;
}

declare global {
  interface Window {
    /** The finished report, `encodeReport`'s string. */
    welfordBench?: string;
  }
}
