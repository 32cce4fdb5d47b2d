import type { KernelArg } from '../backend/backend.ts';
import type { GpuStorage } from '../backend/webgpu/webgpu_backend.ts';
import { sizeOf, stridesOf, type Shape } from '../util/shape.ts';
import { dims8 } from './elementwise.ts';
import { MAX_WORKGROUPS_PER_DIM, type Program } from '../backend/webgpu/program.ts';

/** Rows and columns of C one workgroup of shaders/matmul.wgsl computes. */
const TILE = 64;

/** A batched product C[b] = op(A[b]) · op(B[b]) with C of shape [...batchShape, M, N]. */
export interface MatmulGeometry {
  readonly batchShape: Shape;
  readonly M: number;
  readonly K: number;
  readonly N: number;
  /** Element strides of each batch dimension of C in A's and B's storage (0 where broadcast). */
  readonly aBatchStrides: readonly number[];
  readonly bBatchStrides: readonly number[];
  readonly transA: boolean;
  readonly transB: boolean;
}

/** The product, with `bias` (N values) added to every row of C when given. */
export function matmulProgram(g: MatmulGeometry, a: KernelArg<GpuStorage>, b: KernelArg<GpuStorage>, out: KernelArg<GpuStorage>, bias?: KernelArg<GpuStorage>): Program {
  let { batchShape, M, aBatchStrides, bBatchStrides } = g;
  // When B is shared by every batch and A's batches are contiguous, the batches of A are
  // just more rows: one tall product instead of many short ones.
  const aContiguous = stridesOf(batchShape).every((s, i) => batchShape[i] === 1 || aBatchStrides[i] === s * M * g.K);
  const foldedRows = M * sizeOf(batchShape);
  if (!g.transA && batchShape.length > 0 && bBatchStrides.every((s) => s === 0) && aContiguous && Math.ceil(foldedRows / TILE) <= MAX_WORKGROUPS_PER_DIM) {
    M = foldedRows;
    batchShape = [];
    aBatchStrides = [];
    bBatchStrides = [];
  }
  const batches = sizeOf(batchShape);
  const dispatch = [Math.ceil(g.N / TILE), Math.ceil(M / TILE), batches] as const;
  if (dispatch.some((d) => d > MAX_WORKGROUPS_PER_DIM)) {
    throw new Error(
      `matmul: too large for one GPU dispatch (batch shape [${batchShape.join(', ')}], M ${M}, N ${g.N}): ` +
        `at most ${MAX_WORKGROUPS_PER_DIM} batches and ${MAX_WORKGROUPS_PER_DIM * TILE} rows and columns`,
    );
  }
  return {
    kernel: 'matmul',
    entryPoint: bias ? 'main_bias' : 'main',
    overrides: { TRANS_A: g.transA, TRANS_B: g.transB },
    uniforms: {
      M,
      N: g.N,
      K: g.K,
      batch_rank: batchShape.length,
      batch_shape: dims8(batchShape, 1),
      a_strides: dims8(aBatchStrides),
      b_strides: dims8(bBatchStrides),
    },
    bindings: bias ? { a: a.storage, b: b.storage, out: out.storage, bias: bias.storage } : { a: a.storage, b: b.storage, out: out.storage },
    dispatch,
  };
}
