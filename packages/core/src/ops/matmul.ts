import type { Tensor } from '../tensor/tensor.ts';
import { matmulProgram, type MatmulGeometry } from '../kernels/matmul.ts';
import { matmulReference } from '../reference/matmul.ts';
import { assertRankAtMost, broadcastStrides, sameShape, shapeToString, sizeOf, type Shape } from '../util/shape.ts';
import { runOp } from './dispatch.ts';
import { registerOp } from './registry.ts';
import { sumToShape } from './reduce_grad.ts';

/** Whether each operand is read transposed (its last two dimensions swapped). */
interface MatmulAttrs {
  transA: boolean;
  transB: boolean;
}

interface MatmulShapes extends MatmulGeometry {
  readonly outShape: Shape;
}

/**
 * torch.matmul's shape rules: the last two dimensions multiply as matrices, the ones before
 * broadcast; a 1-D first operand is a row [1, K] and a 1-D second one a column [K, 1], and
 * the added dimension is removed from the result.
 */
function matmulShapes(a: Shape, b: Shape, { transA, transB }: MatmulAttrs): MatmulShapes {
  if (a.length === 0 || b.length === 0) {
    throw new Error(`matmul: both operands need at least one dimension, got shapes ${shapeToString(a)} and ${shapeToString(b)}`);
  }
  if ((transA && a.length < 2) || (transB && b.length < 2)) {
    throw new Error(`matmul: a transposed operand needs at least two dimensions, got shapes ${shapeToString(a)} and ${shapeToString(b)}`);
  }
  const aRows = a.length === 1 ? 1 : a[a.length - 2];
  const aCols = a[a.length - 1];
  const bRows = b.length === 1 ? b[0] : b[b.length - 2];
  const bCols = b.length === 1 ? 1 : b[b.length - 1];
  const [M, K] = transA ? [aCols, aRows] : [aRows, aCols];
  const [Kb, N] = transB ? [bCols, bRows] : [bRows, bCols];
  if (K !== Kb) {
    const t = transA || transB ? ` (transposed: ${transA ? 'first' : ''}${transA && transB ? ' and ' : ''}${transB ? 'second' : ''})` : '';
    throw new Error(`matmul: shapes ${shapeToString(a)} and ${shapeToString(b)} cannot be multiplied (${K} != ${Kb})${t}`);
  }
  const aBatch = a.slice(0, -2);
  const bBatch = b.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const batchShape: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = aBatch[aBatch.length - rank + i] ?? 1;
    const db = bBatch[bBatch.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`matmul: the batch dimensions of shapes ${shapeToString(a)} and ${shapeToString(b)} cannot be broadcast together (${da} vs ${db})`);
    }
    batchShape.push(da === 1 ? db : da);
  }
  const outShape = [...batchShape, ...(a.length === 1 ? [] : [M]), ...(b.length === 1 ? [] : [N])];
  assertRankAtMost('matmul', outShape);
  return {
    batchShape,
    M,
    K,
    N,
    aBatchStrides: broadcastStrides(aBatch, batchShape).map((s) => s * M * K),
    bBatchStrides: broadcastStrides(bBatch, batchShape).map((s) => s * K * N),
    transA,
    transB,
    outShape,
  };
}

/** The product with either operand read transposed, without materialising the transpose. */
function product(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  return runOp<MatmulAttrs>('matmul', [a, b], { transA, transB });
}

/** A 1-D operand as the matrix torch.matmul reads it (a row first, a column second). */
function asMatrix(t: Tensor, first: boolean): Tensor {
  if (t.rank !== 1) return t;
  return t.view(first ? [1, t.shape[0]] : [t.shape[0], 1]);
}

// Inputs [a, b] or [a, b, bias]: a bias of N values is added to every row of the product.
registerOp<MatmulAttrs>({
  name: 'matmul',
  shape: ([a, b, bias], attrs) => {
    const { outShape, N } = matmulShapes(a, b, attrs);
    if (bias && (bias.length !== 1 || bias[0] !== N)) throw new Error(`matmul: expected a bias of shape [${N}] (the product's columns), got ${shapeToString(bias)}`);
    return outShape;
  },
  cpu: ([a, b, bias], out, attrs) => matmulReference(a.data, b.data, out.data, matmulShapes(a.shape, b.shape, attrs), bias?.data),
  gpu: ([a, b, bias], out, attrs) => [matmulProgram(matmulShapes(a.shape, b.shape, attrs), a, b, out, bias)],
  backward: ({ grad, inputs: [a, b, bias], attrs: { transA, transB } }) => {
    const { batchShape, M, N } = matmulShapes(a.shape, b.shape, { transA, transB });
    const a2 = asMatrix(a, true);
    const b2 = asMatrix(b, false);
    const g = grad.view([...batchShape, M, N]);
    // C = op(A)·op(B): d op(A) = dC·op(B)ᵀ and d op(B) = op(A)ᵀ·dC, transposed back where op is.
    let ga: Tensor | null = null;
    if (a.requiresGrad) {
      const full = transA ? product(b2, g, transB, true) : product(g, b2, false, !transB);
      ga = sumToShape(full, a2.shape).view(a.shape);
    }
    let gb: Tensor | null = null;
    if (b.requiresGrad) {
      const rows = sizeOf(batchShape) * M;
      if (!transA && batchShape.length > 0 && sizeOf(b2.shape.slice(0, -2)) === 1 && sameShape(a2.shape.slice(0, -2), batchShape)) {
        // B is shared by every batch (a linear layer): the batch sum is a product over
        // the stacked rows of A and dC, with no separate reduction.
        const aRows = a2.view([rows, a2.shape[a2.rank - 1]]);
        const gRows = g.view([rows, N]);
        gb = (transB ? product(gRows, aRows, true, false) : product(aRows, gRows, true, false)).view(b.shape);
      } else {
        const full = transB ? product(g, a2, true, transA) : product(a2, g, !transA, false);
        gb = sumToShape(full, b2.shape).view(b.shape);
      }
    }
    const gBias = bias?.requiresGrad ? sumToShape(grad, bias.shape) : null;
    return bias ? [ga, gb, gBias] : [ga, gb];
  },
});

/**
 * Matrix product with torch.matmul's rules: [..., M, K] @ [..., K, N] → [..., M, N], the
 * leading (batch) dimensions broadcast. A 1-D first operand acts as a row vector and a 1-D
 * second operand as a column vector, and that dimension is dropped from the result (two 1-D
 * operands give their dot product, a 0-d tensor).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return product(a, b, false, false);
}
