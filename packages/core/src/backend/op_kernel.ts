import type { Shape } from '../util/shape.ts';
import type { HostArray, KernelArg } from './storage.ts';
import type { GpuStorage } from './webgpu/gpu_storage.ts';
import type { Program } from './webgpu/program.ts';
import type { GpuTraits } from './webgpu/traits.ts';

/** What an op's GPU side is given besides its tensors. */
export interface GpuContext {
  /** The device's traits: subgroups, workgroup sizes, the reduction and convolution choices. */
  readonly traits: GpuTraits;
  /**
   * Pooled storage of `size` floats for intermediate values of this op's own programs (the
   * partial states of a two-level reduction); it goes back to the pool once they are recorded.
   * `what` names it in allocation errors.
   */
  scratch(size: number, what: string): KernelArg<GpuStorage>;
  /**
   * Records a copy of `size` floats from float `fromOffset` of `from` to `toOffset` of `to`,
   * now, before the programs the op returns: a copy command instead of a dispatch, for data
   * that moves as one contiguous run (a slice along the first dimensions).
   */
  copy(from: GpuStorage, to: GpuStorage, size: number, fromOffset: number, toOffset: number): void;
}

/**
 * How one op computes its output on each kind of backend: the CPU reference, or the GPU
 * programs (one or several dispatches). The backend picks; the op never asks which it is on.
 */
export interface OpKernel<A> {
  readonly name: string;
  /** CPU reference: writes the output from the inputs, accumulating in float64. */
  cpu(inputs: readonly HostArray[], output: HostArray, attrs: A): void;
  /** The GPU dispatches that compute the output, in order. */
  gpu(inputs: readonly KernelArg<GpuStorage>[], output: KernelArg<GpuStorage>, attrs: A, ctx: GpuContext): Program[];
  /**
   * Inputs holding indices (class labels, positions) that must be integers in [0, limit). The
   * CPU reference rejects a bad one itself; on the GPU, where the kernel clamps it, a check
   * runs beside the op and the next read throws `message(value)`.
   */
  indexChecks?(inputs: readonly Shape[], attrs: A): readonly IndexCheck[];
}

/** One input of an op whose values must be integers in [0, limit). */
export interface IndexCheck {
  readonly input: number;
  readonly limit: number;
  /** The error for a bad value, the same on every backend. */
  message(value: number): string;
}

/**
 * An update that writes named storages in place (an optimizer step, the running statistics,
 * a copy into a parameter): on the CPU a function of their host arrays, on the GPU programs
 * that bind them by WGSL variable name.
 */
export interface InPlaceKernel {
  readonly name: string;
  cpu(data: Record<string, Float32Array>): void;
  gpu(storages: Record<string, GpuStorage>, ctx: GpuContext): Program[];
}
