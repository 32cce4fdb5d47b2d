import type { KernelArg } from '../backend/backend.ts';
import type { GpuStorage } from '../backend/webgpu/webgpu_backend.ts';
import type { GpuTraits } from '../backend/webgpu/traits.ts';
import type { Program } from '../kernels/program.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Shape } from '../util/shape.ts';

/** A tensor on the host, as the CPU reference sees it. */
export interface HostArray {
  readonly shape: Shape;
  readonly data: Float32Array;
}

export interface BackwardContext<A> {
  /** Gradient of the loss with respect to the op's output. */
  readonly grad: Tensor;
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly attrs: A;
}

/**
 * One op, declared once: its shape rule, its forward on the GPU and on the CPU reference,
 * and its backward written with other ops.
 */
export interface OpDef<A = Record<string, never>> {
  readonly name: string;
  /** Output shape; throws an error naming the op and the shapes expected and given. */
  shape(inputs: readonly Shape[], attrs: A): Shape;
  /** CPU reference: writes the output from the inputs, accumulating in float64. */
  cpu(inputs: readonly HostArray[], output: HostArray, attrs: A): void;
  /** The GPU dispatches that compute the output, for a device with `traits` (workgroup sizes, subgroups). */
  gpu(inputs: readonly KernelArg<GpuStorage>[], output: KernelArg<GpuStorage>, attrs: A, traits: GpuTraits): Program[];
  /**
   * Gradients of the inputs (null where an input gets none). `null` declares the op not
   * differentiable (its output never requires grad, like a comparison); leaving it out makes
   * differentiating through the op an error.
   */
  readonly backward?: ((ctx: BackwardContext<A>) => (Tensor | null)[]) | null;
  /**
   * Inputs holding indices (class labels, positions) that must be integers in [0, limit). The
   * CPU reference rejects a bad one itself; on the GPU, where the kernel clamps it, a check
   * runs beside the op and the next read throws `message(value)` (see WebGpuBackend.checkIndices).
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
