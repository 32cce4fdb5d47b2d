import { isGradEnabled } from '../tensor/grad_mode.ts';
import { fillProgram } from '../kernels/elementwise.ts';
import { gatherProgram, scatterProgram } from '../kernels/layout.ts';
import {
  broadcastToReference,
  concatReference,
  permuteReference,
  sliceBackwardReference,
  sliceReference,
} from '../reference/layout.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { assertRankAtMost, broadcastStrides, contiguousRunStart, normalizeAxes, shapeToString, sizeOf, stridesOf, type Shape } from '../util/shape.ts';
import { runOp } from './dispatch.ts';
import { registerOp } from './registry.ts';
import { sumToShape } from './reduce_grad.ts';

const list = (values: readonly number[]): string => `[${values.join(', ')}]`;

/** One axis, possibly negative, as a non-negative index; throws naming the op when out of range. */
function axisOf(op: string, axis: number, rank: number): number {
  return normalizeAxes(op, axis, rank)[0];
}

// ---------------------------------------------------------------------------------------------
// Views: reshape, flatten, squeeze, unsqueeze share the input's storage (no kernel).

/** Resolves one -1 in `shape` against `size` elements, like torch.reshape. */
function inferShape(op: string, shape: Shape, size: number): number[] {
  const invalid = () => new Error(`${op}: shape ${list(shape)} is invalid for input of size ${size}`);
  let inferred = -1;
  let known = 1;
  shape.forEach((d, i) => {
    if (d === -1) {
      if (inferred >= 0) throw new Error(`${op}: only one dimension can be inferred (-1), got shape ${list(shape)}`);
      inferred = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new Error(`${op}: invalid shape ${list(shape)}: sizes must be non-negative integers or -1`);
    } else {
      known *= d;
    }
  });
  const out = [...shape];
  if (inferred < 0) {
    if (known !== size) throw invalid();
    return out;
  }
  if (known === 0) throw new Error(`${op}: cannot reshape a tensor of ${size} elements into shape ${list(shape)}: the size of the -1 dimension is ambiguous`);
  if (size % known !== 0) throw invalid();
  out[inferred] = size / known;
  return out;
}

/** A tensor of `shape` sharing x's storage, recorded for autograd (its gradient is reshaped back). */
function viewOf(op: string, x: Tensor, shape: Shape): Tensor {
  x.storageFor(op); // throws naming the op when x was disposed
  const out = x.view(shape);
  if (isGradEnabled() && x.requiresGrad) {
    out.requiresGrad = true;
    out.gradFn = { op, inputs: [x], backward: (grad) => [reshape(grad, x.shape)] };
  }
  return out;
}

/**
 * The same values with another shape (torch.reshape). One size may be -1 and is inferred.
 * The result shares x's storage: no copy is made.
 */
export function reshape(x: Tensor, shape: Shape): Tensor {
  return viewOf('reshape', x, inferShape('reshape', shape, x.size));
}

/** Merges dimensions startDim..endDim (inclusive, negative counts from the end) into one (torch.flatten). A view. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  const shape = x.rank === 0 ? [1] : x.shape;
  const start = axisOf('flatten', startDim, shape.length);
  const end = axisOf('flatten', endDim, shape.length);
  if (start > end) {
    throw new Error(`flatten: startDim ${startDim} comes after endDim ${endDim} for a tensor of shape ${shapeToString(x.shape)}`);
  }
  return viewOf('flatten', x, [...shape.slice(0, start), sizeOf(shape.slice(start, end + 1)), ...shape.slice(end + 1)]);
}

/**
 * Removes dimensions of size 1: all of them, or those among `dim` (a dimension of another size
 * named in `dim` is kept, as in torch.squeeze). A view.
 */
export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  const chosen = new Set(normalizeAxes('squeeze', dim, x.rank));
  return viewOf('squeeze', x, x.shape.filter((d, i) => !(d === 1 && chosen.has(i))));
}

/** Inserts a dimension of size 1 at `dim` (in [-rank-1, rank], as torch.unsqueeze). A view. */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const rank = x.rank;
  if (!Number.isInteger(dim) || dim < -rank - 1 || dim > rank) {
    throw new Error(`unsqueeze: dim ${dim} is out of range for a tensor of shape ${shapeToString(x.shape)} (expected an integer in [${-rank - 1}, ${rank}])`);
  }
  const at = dim < 0 ? dim + rank + 1 : dim;
  return viewOf('unsqueeze', x, [...x.shape.slice(0, at), 1, ...x.shape.slice(at)]);
}

// ---------------------------------------------------------------------------------------------
// Copies: permute, slice, concat, broadcastTo all run the strided copy kernel.

interface PermuteAttrs {
  dims: readonly number[];
}

/** Checks that `dims` orders all dimensions of `shape` once; returns them non-negative. */
function permutation(dims: readonly number[], shape: Shape): number[] {
  if (dims.length !== shape.length) {
    throw new Error(`permute: dims ${list(dims)} must name each of the ${shape.length} dimensions of the input, shape ${shapeToString(shape)}, once`);
  }
  normalizeAxes('permute', dims, shape.length); // range and repetition
  return dims.map((d) => (d < 0 ? d + shape.length : d));
}

registerOp<PermuteAttrs>({
  name: 'permute',
  shape: ([x], { dims }) => {
    assertRankAtMost('permute', x);
    return permutation(dims, x).map((d) => x[d]);
  },
  cpu: ([x], out, { dims }) => permuteReference(x, out, permutation(dims, x.shape)),
  gpu: ([x], out, { dims }) => {
    const strides = stridesOf(x.shape);
    return [gatherProgram(x, out, permutation(dims, x.shape).map((d) => strides[d]))];
  },
  backward: ({ grad, inputs: [x], attrs: { dims } }) => {
    const inverse = new Array<number>(dims.length);
    permutation(dims, x.shape).forEach((d, i) => (inverse[d] = i));
    return [permute(grad, inverse)];
  },
});

/** Reorders the dimensions: output dimension i is input dimension dims[i] (torch.permute, then contiguous). */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  return runOp<PermuteAttrs>('permute', [x], { dims: [...dims] });
}

/** Swaps two dimensions (torch.transpose, then contiguous). */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = axisOf('transpose', dim0, x.rank);
  const b = axisOf('transpose', dim1, x.rank);
  const dims = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, dims);
}

interface SliceAttrs {
  begin: readonly number[];
  /** Per dimension; -1 means to the end. */
  size: readonly number[];
}

function sliceShape(x: Shape, { begin, size }: SliceAttrs): number[] {
  const where = `input shape ${shapeToString(x)}, begin ${list(begin)}, size ${list(size)}`;
  if (begin.length !== x.length || size.length !== x.length) {
    throw new Error(`slice: begin and size need one entry per dimension of the input (${where})`);
  }
  return x.map((n, d) => {
    const b = begin[d];
    const s = size[d];
    if (!Number.isInteger(b) || b < 0 || b > n) throw new Error(`slice: begin ${b} is out of bounds for dimension ${d} of size ${n} (${where})`);
    if (!Number.isInteger(s) || s < -1) throw new Error(`slice: size ${s} for dimension ${d} must be a non-negative integer or -1 (${where})`);
    const length = s === -1 ? n - b : s;
    if (b + length > n) throw new Error(`slice: begin ${b} + size ${s} exceeds dimension ${d} of size ${n} (${where})`);
    return length;
  });
}

registerOp<SliceAttrs>({
  name: 'slice',
  shape: ([x], attrs) => {
    assertRankAtMost('slice', x);
    return sliceShape(x, attrs);
  },
  cpu: ([x], out, { begin }) => sliceReference(x, out, begin),
  gpu: ([x], out, { begin }, ctx) => {
    const run = contiguousRunStart(x.shape, begin, out.shape);
    if (run !== null) {
      ctx.copy(x.storage, out.storage, sizeOf(out.shape), run, 0);
      return [];
    }
    const strides = stridesOf(x.shape);
    const offset = begin.reduce((acc, b, d) => acc + b * strides[d], 0);
    return [gatherProgram(x, out, strides, offset)];
  },
  backward: ({ grad, inputs: [x], attrs: { begin } }) => [runOp<SliceBackwardAttrs>('sliceBackward', [grad], { begin, inputShape: x.shape })],
});

interface SliceBackwardAttrs {
  begin: readonly number[];
  inputShape: Shape;
}

// The gradient of a slice: zeros of the sliced input's shape with the gradient at the slice.
registerOp<SliceBackwardAttrs>({
  name: 'sliceBackward',
  shape: ([g], { begin, inputShape }) => {
    sliceShape(inputShape, { begin, size: g });
    return inputShape;
  },
  cpu: ([g], out, { begin }) => sliceBackwardReference(g, out, begin),
  gpu: ([g], out, { begin }) => [fillProgram(out, 0), scatterProgram(g, out, begin)],
  backward: ({ grad, inputs: [g], attrs: { begin } }) => [slice(grad, begin, g.shape)],
});

/**
 * The block of x starting at `begin` with `size` elements per dimension (tf.slice); a size of
 * -1 takes everything to the end of that dimension. Copies into contiguous storage.
 */
export function slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
  return runOp<SliceAttrs>('slice', [x], { begin: [...begin], size: [...size] });
}

/** `length` entries of dimension `dim` from `start` (negative counts from the end), as torch.narrow. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = axisOf('narrow', dim, x.rank);
  const n = x.shape[d];
  if (!Number.isInteger(start) || start < -n || start > n) {
    throw new Error(`narrow: start ${start} is out of range for dimension ${d} of size ${n} (expected an integer in [${-n}, ${n}])`);
  }
  const s = start < 0 ? start + n : start;
  if (!Number.isInteger(length) || length < 0 || s + length > n) {
    throw new Error(`narrow: start ${start} + length ${length} exceeds dimension ${d} of size ${n} (input shape ${shapeToString(x.shape)})`);
  }
  return slice(
    x,
    x.shape.map((_, i) => (i === d ? s : 0)),
    x.shape.map((m, i) => (i === d ? length : m)),
  );
}

interface ConcatAttrs {
  axis: number;
}

function concatShape(inputs: readonly Shape[], axis: number): { shape: number[]; axis: number } {
  if (inputs.length === 0) throw new Error('concat: expected at least one tensor');
  const first = inputs[0];
  if (first.length === 0) throw new Error('concat: input 0 is zero-dimensional (shape []); only tensors of rank 1 or more can be concatenated');
  const a = axisOf('concat', axis, first.length);
  const shape = [...first];
  shape[a] = 0;
  inputs.forEach((s, i) => {
    const fits = s.length === first.length && s.every((d, k) => k === a || d === first[k]);
    if (!fits) {
      throw new Error(
        `concat: input ${i} has shape ${shapeToString(s)} but input 0 has shape ${shapeToString(first)}; ` +
          `all sizes must match except along axis ${a}`,
      );
    }
    shape[a] += s[a];
  });
  assertRankAtMost('concat', shape);
  return { shape, axis: a };
}

registerOp<ConcatAttrs>({
  name: 'concat',
  shape: (inputs, { axis }) => concatShape(inputs, axis).shape,
  cpu: (inputs, out, { axis }) => concatReference(inputs, out, concatShape(inputs.map((x) => x.shape), axis).axis),
  gpu: (inputs, out, { axis }, ctx) => {
    const a = concatShape(inputs.map((x) => x.shape), axis).axis;
    let offset = 0;
    return inputs.flatMap((x) => {
      const begin = out.shape.map((_, d) => (d === a ? offset : 0));
      offset += x.shape[a];
      if (sizeOf(x.shape) === 0) return [];
      const run = contiguousRunStart(out.shape, begin, x.shape);
      if (run === null) return [scatterProgram(x, out, begin)];
      ctx.copy(x.storage, out.storage, sizeOf(x.shape), 0, run);
      return [];
    });
  },
  backward: ({ grad, inputs, attrs }) => {
    const a = concatShape(inputs.map((x) => x.shape), attrs.axis).axis;
    let offset = 0;
    return inputs.map((x) => {
      const start = offset;
      offset += x.shape[a];
      return x.requiresGrad ? narrow(grad, a, start, x.shape[a]) : null;
    });
  },
});

/** Joins tensors along `axis` (torch.cat); all other sizes must match. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new Error('concat: expected at least one tensor');
  return runOp<ConcatAttrs>('concat', tensors, { axis });
}

interface BroadcastToAttrs {
  shape: Shape;
  /** Multiplies the values as they are repeated (default 1): the gradient of a mean in one pass. */
  scale?: number;
}

function broadcastTarget(x: Shape, target: Shape): number[] {
  const why = (detail: string) => new Error(`broadcastTo: cannot broadcast shape ${shapeToString(x)} to ${shapeToString(target)}: ${detail}`);
  if (target.length < x.length) throw why(`the target has fewer dimensions than the input`);
  const lead = target.length - x.length;
  const out = target.map((t, i) => {
    const own = i < lead ? undefined : x[i - lead];
    if (t === -1) {
      if (own === undefined) throw why(`-1 (keep the size) is not allowed for the new leading dimension ${i}`);
      return own;
    }
    if (!Number.isInteger(t) || t < 0) throw why(`sizes must be non-negative integers or -1`);
    if (own !== undefined && own !== 1 && own !== t) throw why(`dimension ${i} has size ${own}, and only size-1 dimensions can be expanded (to ${t})`);
    return t;
  });
  assertRankAtMost('broadcastTo', out);
  return out;
}

registerOp<BroadcastToAttrs>({
  name: 'broadcastTo',
  shape: ([x], { shape }) => broadcastTarget(x, shape),
  cpu: ([x], out, { scale = 1 }) => broadcastToReference(x, out, scale),
  gpu: ([x], out, { scale = 1 }) => {
    // Stride 0 along size-1 and new leading dimensions repeats the values.
    return [gatherProgram(x, out, broadcastStrides(x.shape, out.shape), 0, scale)];
  },
  backward: ({ grad, inputs: [x], attrs: { scale = 1 } }) => {
    const summed = sumToShape(grad, x.shape);
    // The elementwise affine op, by name: elementwise.ts differentiates with this file's ops.
    return [scale === 1 ? summed : runOp('affine', [summed], { alpha: scale, beta: 0 })];
  },
});

/**
 * Repeats x along its size-1 dimensions (and new leading ones) to `shape`: torch.expand
 * followed by contiguous. A size of -1 keeps the input's size.
 */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  return runOp<BroadcastToAttrs>('broadcastTo', [x], { shape: [...shape] });
}

/** `scale · broadcastTo(x, shape)` in one pass (the gradient of a mean spread over what it averaged). */
export function broadcastScaled(x: Tensor, shape: Shape, scale: number): Tensor {
  return runOp<BroadcastToAttrs>('broadcastTo', [x], { shape: [...shape], scale });
}
