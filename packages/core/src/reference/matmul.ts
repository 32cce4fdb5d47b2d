import type { MatmulGeometry } from '../kernels/matmul.ts';
import { sizeOf } from '../util/shape.ts';

/**
 * out[b, m, n] = Σ_k op(A[b])[m, k] · op(B[b])[k, n] (+ bias[n] when given), accumulated in
 * float64. op(A) is A, stored [M, K] per batch, or its transpose when transA (A stored [K, M]);
 * likewise B.
 */
export function matmulReference(a: Float32Array, b: Float32Array, out: Float32Array, l: MatmulGeometry, bias?: Float32Array): void {
  const { M, K, N, batchShape } = l;
  const batches = sizeOf(batchShape);
  for (let batch = 0; batch < batches; batch++) {
    // Offsets of this batch in A and B: decompose the batch number into coordinates.
    let aOff = 0;
    let bOff = 0;
    let rest = batch;
    for (let d = batchShape.length - 1; d >= 0; d--) {
      const coord = rest % batchShape[d];
      rest = Math.floor(rest / batchShape[d]);
      aOff += coord * l.aBatchStrides[d];
      bOff += coord * l.bBatchStrides[d];
    }
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = bias ? bias[n] : 0;
        for (let k = 0; k < K; k++) {
          const av = l.transA ? a[aOff + k * M + m] : a[aOff + m * K + k];
          const bv = l.transB ? b[bOff + n * K + k] : b[bOff + k * N + n];
          s += av * bv;
        }
        out[batch * M * N + m * N + n] = s;
      }
    }
  }
}
