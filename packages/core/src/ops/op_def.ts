import type { OpKernel } from '../backend/op_kernel.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Shape } from '../util/shape.ts';

export type { GpuContext, IndexCheck } from '../backend/op_kernel.ts';
export type { HostArray } from '../backend/storage.ts';

export interface BackwardContext<A> {
  /** Gradient of the loss with respect to the op's output. */
  readonly grad: Tensor;
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly attrs: A;
}

/**
 * One op, declared once: its shape rule, its forward on the CPU reference and on the GPU (see
 * OpKernel: how the GPU splits the work is the kernel layer's business), and its backward
 * written with other ops.
 */
export interface OpDef<A = Record<string, never>> extends OpKernel<A> {
  /** Output shape; throws an error naming the op and the shapes expected and given. */
  shape(inputs: readonly Shape[], attrs: A): Shape;
  /**
   * Gradients of the inputs (null where an input gets none). `null` declares the op not
   * differentiable (its output never requires grad, like a comparison); leaving it out makes
   * differentiating through the op an error.
   */
  readonly backward?: ((ctx: BackwardContext<A>) => (Tensor | null)[]) | null;
}
