// FP32 peaks of the adapters the benchmarks have run on, to set GFLOP/s beside. Vendor figures
// for dense FP32 without tensor cores (what WGSL's f32 arithmetic can use):
// - NVIDIA H100 SXM5: 67 TFLOP/s; H100 PCIe: 51 TFLOP/s (NVIDIA H100 Tensor Core GPU datasheet).
// - NVIDIA H200 SXM: 67 TFLOP/s (NVIDIA H200 Tensor Core GPU datasheet; the H100's GH100 die).
// A software adapter (SwiftShader) runs on the CPU, whose peak depends on the machine: unknown.

interface Peak {
  /** Matched against the adapter's name (case-insensitive). */
  readonly pattern: RegExp;
  readonly gflops: number;
  readonly source: string;
}

const PEAKS: readonly Peak[] = [
  { pattern: /h100.*pcie/i, gflops: 51_200, source: 'H100 PCIe datasheet, FP32' },
  { pattern: /h100/i, gflops: 66_900, source: 'H100 SXM5 datasheet, FP32' },
  { pattern: /h200/i, gflops: 66_900, source: 'H200 SXM datasheet, FP32' },
];

/** The adapter's FP32 peak in GFLOP/s and where the figure comes from, or null where unknown. */
export function fp32Peak(adapterName: string): { gflops: number; source: string } | null {
  const peak = PEAKS.find((p) => p.pattern.test(adapterName));
  return peak ? { gflops: peak.gflops, source: peak.source } : null;
}

/** "12.3% of the FP32 peak" or "peak unknown", for a figure in GFLOP/s. */
export function ofPeak(gflops: number, peak: { gflops: number } | null): string {
  return peak ? `${((100 * gflops) / peak.gflops).toFixed(1)}% of FP32 peak` : 'FP32 peak unknown';
}
