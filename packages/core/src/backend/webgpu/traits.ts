/**
 * What kernel builders may specialise on about the device that will run them, handed to every
 * op's `gpu()`: a builder picks workgroup sizes and kernel variants from these, so the same op
 * compiles to what suits a discrete GPU or a software adapter.
 */
export interface GpuTraits {
  /** Subgroup operations are available and turned on (`WebGpuBackend.useSubgroups`). */
  readonly subgroups: boolean;
  /** The adapter runs on the CPU (SwiftShader). */
  readonly software: boolean;
  /**
   * The largest workgroup a reduction uses (a power of two). 256 on GPUs. On a software
   * adapter each workgroup barrier costs a pass over every invocation of the workgroup, so a
   * tree over 256 invocations is several times slower than one over 64 (measured in SwiftShader:
   * batch-norm statistics 3x faster with 64).
   */
  readonly reductionWorkgroup: number;
  /**
   * Reductions of up to `LONG_SERIAL_MAX` elements into at least `LONG_SERIAL_OUTPUTS` outputs
   * run one thread per output, looping, instead of one workgroup per output. True on software
   * adapters, where the outputs alone keep every core busy and a loop beats a barrier-laden
   * tree (a global average pool of [32, 32, 14, 14]: 4.5x faster in SwiftShader); false on GPUs,
   * which want the parallelism of the tree.
   */
  readonly longSerialReductions: boolean;
  /**
   * How convolutions tile their products (shaders/conv2d*.wgsl, docs/conv2d.md). 'workgroup':
   * tiles staged in workgroup memory, each read shared by many invocations (GPUs). 'subgroup':
   * no workgroup memory; each invocation keeps a larger block in registers and the four lanes
   * of a quad share the loading of its rows through subgroup broadcasts. On a software adapter
   * every read of workgroup memory costs a gather while broadcasts are cheap: 'subgroup' there,
   * where subgroups are on (convolution passes 2.5-5x faster than with workgroup tiles in
   * SwiftShader).
   */
  readonly convTiling: ConvTiling;
}

/** See `GpuTraits.convTiling`. */
export type ConvTiling = 'workgroup' | 'subgroup';

/** The longest reduction `longSerialReductions` runs in one thread. */
export const LONG_SERIAL_MAX = 4096;
/** The fewest outputs for which `longSerialReductions` applies. */
export const LONG_SERIAL_OUTPUTS = 256;

/** The reduction workgroup that suits an adapter: 64 on software adapters, 256 on GPUs. */
export function defaultReductionWorkgroup(software: boolean): number {
  return software ? 64 : 256;
}

/** Traits of a device: what the adapter is, whether subgroups are used, and the reduction and convolution choices (defaults suit the adapter). */
export function gpuTraits(
  software: boolean,
  subgroups: boolean,
  reductionWorkgroup = defaultReductionWorkgroup(software),
  longSerialReductions = software,
  convTiling: ConvTiling = software && subgroups ? 'subgroup' : 'workgroup',
): GpuTraits {
  return Object.freeze({ subgroups, software, reductionWorkgroup, longSerialReductions, convTiling });
}

/** The traits kernels assume when no device is at hand (tests that build programs directly). */
export const DEFAULT_GPU_TRAITS: GpuTraits = gpuTraits(false, false);
