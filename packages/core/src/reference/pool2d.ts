import type { PoolWindow } from '../kernels/pool2d.ts';
import type { HostArray } from '../backend/storage.ts';

/** Calls fn(plane, oh, ow, i) for every output element i of an NCHW output. */
function forEachOutput(out: HostArray, fn: (plane: number, oh: number, ow: number, i: number) => void): void {
  const [n, c, outH, outW] = out.shape;
  let i = 0;
  for (let plane = 0; plane < n * c; plane++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) fn(plane, oh, ow, i++);
    }
  }
}

/**
 * Calls fn(flat input index, kh, kw) for every position of window (oh, ow) that lies inside the
 * input, in row-major window order; positions in the padding are skipped.
 */
function forEachInWindow(input: readonly number[], w: PoolWindow, plane: number, oh: number, ow: number, fn: (at: number, kh: number, kw: number) => void): void {
  const [, , inH, inW] = input;
  for (let kh = 0; kh < w.kernelSize[0]; kh++) {
    const ih = oh * w.stride[0] - w.padding[0] + kh;
    if (ih < 0 || ih >= inH) continue;
    for (let kw = 0; kw < w.kernelSize[1]; kw++) {
      const iw = ow * w.stride[1] - w.padding[1] + kw;
      if (iw < 0 || iw >= inW) continue;
      fn((plane * inH + ih) * inW + iw, kh, kw);
    }
  }
}

interface WindowMax {
  value: number;
  /** kh · kernelW + kw of the chosen position. */
  offset: number;
  /** Its flat index in the input. */
  at: number;
}

/**
 * torch.max_pool2d's choice: the first strictly largest value in row-major window order, a NaN
 * replacing whatever came before it; a window of −inf keeps its first position in the input.
 */
function windowMax(x: HostArray, w: PoolWindow, plane: number, oh: number, ow: number): WindowMax {
  let best: WindowMax | null = null;
  forEachInWindow(x.shape, w, plane, oh, ow, (at, kh, kw) => {
    const v = x.data[at];
    const offset = kh * w.kernelSize[1] + kw;
    if (best === null) best = { value: -Infinity, offset, at };
    if (v > best.value || Number.isNaN(v)) best = { value: v, offset, at };
  });
  if (best === null) throw new Error(`maxPool2d: window (${oh}, ${ow}) lies entirely in the padding`);
  return best;
}

/** out = the largest value of each window (padding counts as −inf). */
export function maxPool2dReference(x: HostArray, out: HostArray, w: PoolWindow): void {
  forEachOutput(out, (plane, oh, ow, i) => {
    out.data[i] = windowMax(x, w, plane, oh, ow).value;
  });
}

/** Each window's argmax as its window-local offset kh · kernelW + kw. */
export function maxPool2dArgmaxReference(x: HostArray, argmax: HostArray, w: PoolWindow): void {
  forEachOutput(argmax, (plane, oh, ow, i) => {
    argmax.data[i] = windowMax(x, w, plane, oh, ow).offset;
  });
}

/** Gradient of the input: each output's gradient goes to its window's argmax. */
export function maxPool2dBackwardReference(grad: HostArray, argmax: HostArray, dx: HostArray, w: PoolWindow): void {
  const sums = new Float64Array(dx.data.length);
  forEachOutput(grad, (plane, oh, ow, i) => {
    forEachInWindow(dx.shape, w, plane, oh, ow, (at, kh, kw) => {
      if (kh * w.kernelSize[1] + kw === argmax.data[i]) sums[at] += grad.data[i];
    });
  });
  dx.data.set(sums);
}

/**
 * PyTorch's divisor for window (oh, ow): the window clipped to the padded input when padding
 * counts, otherwise to the input itself.
 */
function divisor(input: readonly number[], w: PoolWindow, countIncludePad: boolean, oh: number, ow: number): number {
  const [, , inH, inW] = input;
  const extent = (o: number, axis: 0 | 1, size: number): number => {
    const start = o * w.stride[axis] - w.padding[axis];
    const end = Math.min(start + w.kernelSize[axis], size + w.padding[axis]);
    return countIncludePad ? end - start : Math.min(end, size) - Math.max(start, 0);
  };
  return extent(oh, 0, inH) * extent(ow, 1, inW);
}

/** out = the mean of each window (see `divisor`). */
export function avgPool2dReference(x: HostArray, out: HostArray, w: PoolWindow, countIncludePad: boolean): void {
  forEachOutput(out, (plane, oh, ow, i) => {
    let s = 0;
    forEachInWindow(x.shape, w, plane, oh, ow, (at) => {
      s += x.data[at];
    });
    out.data[i] = s / divisor(x.shape, w, countIncludePad, oh, ow);
  });
}

/** Gradient of the input: each output's gradient is spread evenly over its window. */
export function avgPool2dBackwardReference(grad: HostArray, dx: HostArray, w: PoolWindow, countIncludePad: boolean): void {
  const sums = new Float64Array(dx.data.length);
  forEachOutput(grad, (plane, oh, ow, i) => {
    const share = grad.data[i] / divisor(dx.shape, w, countIncludePad, oh, ow);
    forEachInWindow(dx.shape, w, plane, oh, ow, (at) => {
      sums[at] += share;
    });
  });
  dx.data.set(sums);
}
