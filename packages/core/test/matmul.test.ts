import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { Tensor, WebGpuBackend } from '../src/index.ts';
import { compareBackward, gradcheck } from './gradcheck.ts';
import { cpuBackend, expectClose, expectTensorsClose, gpuBackend, onBoth, randomData } from './helpers.ts';

let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = await gpuBackend();
  w.setBackend(gpu);
});

const size = (shape: number[]): number => shape.reduce((p, d) => p * d, 1);

/** The internal product with either operand read transposed, as the backward uses it. */
const product = (transA: boolean, transB: boolean) => (a: Tensor, b: Tensor): Tensor => w.runOp('matmul', [a, b], { transA, transB });

/** A row-major [rows, cols] matrix transposed on the host, batch by batch. */
function transposeHost(data: Float32Array, batches: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < batches; b++) {
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[b * rows * cols + c * rows + r] = data[b * rows * cols + r * cols + c];
  }
  return out;
}

const cases: [number[], number[], number[]][] = [
  [[1, 1], [1, 1], [1, 1]],
  [[7, 33], [33, 5], [7, 5]],
  [[33, 257], [257, 17], [33, 17]],
  [[65, 64], [64, 63], [65, 63]],
  [[3, 7, 5], [5, 9], [3, 7, 9]],
  [[5, 9], [3, 9, 4], [3, 5, 4]],
  [[2, 1, 4, 6], [3, 6, 5], [2, 3, 4, 5]],
  [[4, 3, 7], [4, 7, 2], [4, 3, 2]],
  [[5], [5, 3], [3]],
  [[4, 5], [5], [4]],
  [[5], [5], []],
  [[2, 3, 5], [5], [2, 3]],
  [[5], [2, 5, 3], [2, 3]],
  [[3, 0], [0, 4], [3, 4]],
];

describe('matmul: WebGPU against the CPU reference', () => {
  for (const [sa, sb, so] of cases) {
    it(`${JSON.stringify(sa)} @ ${JSON.stringify(sb)} -> ${JSON.stringify(so)}`, async () => {
      const [ga, ca] = onBoth(randomData(size(sa), 1), sa, gpu);
      const [gb, cb] = onBoth(randomData(size(sb), 2), sb, gpu);
      const want = w.matmul(ca, cb);
      expect([...want.shape]).toEqual(so);
      await expectTensorsClose(w.matmul(ga, gb), want, 1e-4, 1e-4, 'matmul');
    });
  }

  it('follows the definition on a small example (the reference itself)', async () => {
    const a = w.fromArray([1, 2, 3, 4, 5, 6], [2, 3], { backend: cpuBackend() });
    const b = w.fromArray([7, 8, 9, 10, 11, 12], [3, 2], { backend: cpuBackend() });
    expect(Array.from(await w.matmul(a, b).toArray())).toEqual([58, 64, 139, 154]);
    const g = w.fromArray([1, 2, 3, 4, 5, 6], [2, 3], { backend: gpu });
    const h = w.fromArray([7, 8, 9, 10, 11, 12], [3, 2], { backend: gpu });
    expect(Array.from(await w.matmul(g, h).toArray())).toEqual([58, 64, 139, 154]);
  });

  it('broadcast batches read the shared operand, not copies (batch of 1 against 3)', async () => {
    // [1, 2, 2] @ [3, 2, 2]: every batch of the result uses the same A.
    const a = w.fromArray([1, 0, 0, 2], [1, 2, 2], { backend: gpu });
    const b = w.fromArray([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [3, 2, 2], { backend: gpu });
    expect(Array.from(await w.matmul(a, b).toArray())).toEqual([1, 2, 6, 8, 5, 6, 14, 16, 9, 10, 22, 24]);
  });

  for (const [transA, transB] of [[true, false], [false, true], [true, true]] as const) {
    it(`reads operands transposed in place (transA ${transA}, transB ${transB})`, async () => {
      const [B, M, K, N] = [3, 33, 65, 7];
      const aData = randomData(B * M * K, 3);
      const bData = randomData(B * K * N, 4);
      // Stored transposed: A as [B, K, M], B as [B, N, K].
      const aStored = transA ? transposeHost(aData, B, M, K) : aData;
      const bStored = transB ? transposeHost(bData, B, K, N) : bData;
      const [ga, ca] = onBoth(aStored, transA ? [B, K, M] : [B, M, K], gpu);
      const [gb, cb] = onBoth(bStored, transB ? [B, N, K] : [B, K, N], gpu);
      const plain = w.matmul(w.fromArray(aData, [B, M, K], { backend: cpuBackend() }), w.fromArray(bData, [B, K, N], { backend: cpuBackend() }));
      const cpuT = product(transA, transB)(ca, cb);
      await expectTensorsClose(cpuT, plain, 1e-6, 1e-6, 'cpu transposed');
      await expectTensorsClose(product(transA, transB)(ga, gb), plain, 1e-4, 1e-4, 'gpu transposed');
    });
  }

  it('handles shapes where B is shared and A has many batches (rows folded together)', async () => {
    for (const sa of [[5, 13, 33], [2, 1, 3, 7, 33]]) {
      const sb = [33, 70];
      const [ga, ca] = onBoth(randomData(size(sa), 5), sa, gpu);
      const [gb, cb] = onBoth(randomData(size(sb), 6), sb, gpu);
      await expectTensorsClose(w.matmul(ga, gb), w.matmul(ca, cb), 1e-4, 1e-4);
    }
  });
});

describe('matmul backward', () => {
  const gradCases: [number[], number[]][] = [
    [[3, 4], [4, 5]],
    [[2, 3, 4], [4, 2]],
    [[4, 3], [2, 3, 2]],
    [[2, 1, 3, 4], [3, 4, 2]],
    [[4], [4, 3]],
    [[3, 4], [4]],
    [[4], [4]],
    [[2, 3, 4], [4]],
    [[4], [2, 4, 3]],
  ];
  for (const [sa, sb] of gradCases) {
    it(`gradcheck ${JSON.stringify(sa)} @ ${JSON.stringify(sb)} on the CPU`, async () => {
      await gradcheck(w.matmul, [
        { shape: sa, data: randomData(size(sa), 7) },
        { shape: sb, data: randomData(size(sb), 8) },
      ]);
    });
  }

  it('gradcheck of x @ x: one input used twice gets both gradients', async () => {
    await gradcheck((x) => w.matmul(x, x), [{ shape: [2, 3, 3], data: randomData(18, 9) }]);
  });

  for (const [transA, transB] of [[true, false], [false, true], [true, true]] as const) {
    it(`gradcheck of the transposed product (transA ${transA}, transB ${transB})`, async () => {
      const sa = transA ? [2, 4, 3] : [2, 3, 4];
      const sb = transB ? [5, 4] : [4, 5];
      await gradcheck(product(transA, transB), [
        { shape: sa, data: randomData(size(sa), 9) },
        { shape: sb, data: randomData(size(sb), 10) },
      ]);
    });
  }

  const gpuCases: [number[], number[]][] = [
    [[1, 1], [1, 1]],
    [[7, 33], [33, 5]],
    [[33, 257], [257, 17]],
    [[3, 7, 5], [5, 9]],
    [[2, 1, 4, 6], [3, 6, 5]],
    [[5], [2, 5, 3]],
    [[2, 3, 5], [5]],
  ];
  for (const [sa, sb] of gpuCases) {
    it(`GPU backward matches the CPU: ${JSON.stringify(sa)} @ ${JSON.stringify(sb)}`, async () => {
      await compareBackward(
        w.matmul,
        [
          { shape: sa, data: randomData(size(sa), 11) },
          { shape: sb, data: randomData(size(sb), 12) },
        ],
        gpu,
        { atol: 2e-4, rtol: 2e-4 },
      );
    });
  }

  it('gives only the gradient asked for', async () => {
    const a = w.fromArray(randomData(12, 1), [3, 4], { backend: gpu, requiresGrad: true });
    const b = w.fromArray(randomData(20, 2), [4, 5], { backend: gpu });
    w.matmul(a, b).backward(w.ones([3, 5], { backend: gpu }));
    expect(b.grad).toBeNull();
    // d/dA of Σ A·B is each row of B summed: the same for every row of A.
    const bRows = randomData(20, 2);
    const want = Array.from({ length: 4 }, (_, k) => bRows.slice(k * 5, k * 5 + 5).reduce((s, v) => s + v, 0));
    expectClose(await a.grad!.toArray(), [...want, ...want, ...want], 1e-5, 1e-5);
  });
});

describe('matmul errors', () => {
  const m = (shape: number[]) => w.zeros(shape, { backend: cpuBackend() });
  it('names both shapes when the inner sizes differ', () => {
    expect(() => w.matmul(m([7, 5]), m([6, 9]))).toThrow('matmul: shapes [7, 5] and [6, 9] cannot be multiplied (5 != 6)');
    expect(() => w.matmul(m([2, 7, 5]), m([4]))).toThrow('matmul: shapes [2, 7, 5] and [4] cannot be multiplied (5 != 4)');
  });
  it('names both shapes when the batch dimensions do not broadcast', () => {
    expect(() => w.matmul(m([2, 3, 4]), m([5, 4, 6]))).toThrow('matmul: the batch dimensions of shapes [2, 3, 4] and [5, 4, 6] cannot be broadcast together (2 vs 5)');
  });
  it('rejects 0-d operands', () => {
    expect(() => w.matmul(m([]), m([3]))).toThrow('matmul: both operands need at least one dimension, got shapes [] and [3]');
  });
  it('fails the same way on the GPU', () => {
    const a = w.zeros([7, 5], { backend: gpu });
    const b = w.zeros([6, 9], { backend: gpu });
    expect(() => w.matmul(a, b)).toThrow('(5 != 6)');
  });
});
