import { fillProgram } from '../kernels/elementwise.ts';
import { copyProgram } from '../kernels/layout.ts';
import type { Program } from '../backend/webgpu/program.ts';
import { padReference } from '../reference/pad.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { assertRankAtMost, shapeToString, stridesOf, type Shape } from '../util/shape.ts';
import { runOp } from './dispatch.ts';
import { registerOp } from './registry.ts';

interface PadAttrs {
  /** As given: [before, after] pairs from the last dimension backwards. */
  pads: readonly number[];
  value: number;
}

/** Padding before and after each dimension of `shape` (zero where `pads` names none). */
interface PadAmounts {
  before: number[];
  after: number[];
}

function padAmounts(shape: Shape, pads: readonly number[]): PadAmounts {
  const where = `input shape ${shapeToString(shape)}, pads [${pads.join(', ')}]`;
  if (!pads.every((p) => Number.isInteger(p))) throw new Error(`pad: pads must be integers (${where})`);
  if (pads.length % 2 !== 0) throw new Error(`pad: pads must come in [before, after] pairs, got ${pads.length} values (${where})`);
  if (pads.length / 2 > shape.length) {
    throw new Error(`pad: ${pads.length} pads name ${pads.length / 2} dimensions but the input has only ${shape.length} (${where})`);
  }
  const before = shape.map(() => 0);
  const after = shape.map(() => 0);
  for (let k = 0; k < pads.length / 2; k++) {
    const d = shape.length - 1 - k;
    before[d] = pads[2 * k];
    after[d] = pads[2 * k + 1];
  }
  return { before, after };
}

function padShape(shape: Shape, { before, after }: PadAmounts, pads: readonly number[]): number[] {
  return shape.map((n, d) => {
    const size = n + before[d] + after[d];
    if (size < 0) {
      throw new Error(
        `pad: dimension ${d} of size ${n} padded by ${before[d]} and ${after[d]} would have size ${size} < 0 ` +
          `(input shape ${shapeToString(shape)}, pads [${pads.join(', ')}])`,
      );
    }
    return size;
  });
}

registerOp<PadAttrs>({
  name: 'pad',
  shape: ([x], { pads }) => {
    assertRankAtMost('pad', x);
    return padShape(x, padAmounts(x, pads), pads);
  },
  cpu: ([x], out, { pads, value }) => padReference(x, out, padAmounts(x.shape, pads).before, value),
  gpu: ([x], out, { pads, value }) => {
    const { before, after } = padAmounts(x.shape, pads);
    // The part of x that survives the crop, and where it lands in the output.
    const kept = x.shape.map((n, d) => Math.max(0, n + Math.min(0, before[d]) + Math.min(0, after[d])));
    const srcStrides = stridesOf(x.shape);
    const dstStrides = stridesOf(out.shape);
    const srcOffset = before.reduce((acc, b, d) => acc + Math.max(0, -b) * srcStrides[d], 0);
    const dstOffset = before.reduce((acc, b, d) => acc + Math.max(0, b) * dstStrides[d], 0);
    const programs: Program[] = [];
    // A pure crop overwrites every output element; anything else leaves a border to fill.
    if (kept.some((n, d) => n !== out.shape[d])) programs.push(fillProgram(out, value));
    if (kept.every((n) => n > 0)) {
      programs.push(copyProgram({ shape: kept, src: x.storage, srcOffset, srcStrides, dst: out.storage, dstOffset, dstStrides }));
    }
    return programs;
  },
  // The border is constant, so the gradient is the matching crop of grad (padded with zeros where x was cropped).
  backward: ({ grad, attrs: { pads } }) => [pad(grad, pads.map((p) => -p))],
});

/**
 * Pads x with a constant (`torch.nn.functional.pad`, mode "constant"). `pads` holds
 * [before, after] pairs from the last dimension backwards: [left, right] pads the last
 * dimension, [left, right, top, bottom] the last two, and so on. Negative values crop.
 */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  return runOp<PadAttrs>('pad', [x], { pads: [...pads], value });
}
