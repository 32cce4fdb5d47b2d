import type { HostArray } from '../backend/storage.ts';

/** Nearest upsampling by integer factors: out[oh, ow] = x[⌊oh / scaleH⌋, ⌊ow / scaleW⌋]. */
export function upsampleNearest2dReference(x: HostArray, out: HostArray, scale: readonly [number, number]): void {
  const [n, c, inH, inW] = x.shape;
  const [, , outH, outW] = out.shape;
  let i = 0;
  for (let plane = 0; plane < n * c; plane++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        out.data[i++] = x.data[(plane * inH + Math.floor(oh / scale[0])) * inW + Math.floor(ow / scale[1])];
      }
    }
  }
}

/** Gradient of nearest upsampling: each input element sums the gradients of the outputs copied from it. */
export function upsampleNearest2dBackwardReference(grad: HostArray, dx: HostArray, scale: readonly [number, number]): void {
  const [n, c, inH, inW] = dx.shape;
  const [, , outH, outW] = grad.shape;
  const sums = new Float64Array(dx.data.length);
  let i = 0;
  for (let plane = 0; plane < n * c; plane++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        sums[(plane * inH + Math.floor(oh / scale[0])) * inW + Math.floor(ow / scale[1])] += grad.data[i++];
      }
    }
  }
  dx.data.set(sums);
}

/** The two input indices an output index reads along one axis, with their weights. */
interface Taps {
  i0: number;
  i1: number;
  w0: number;
  w1: number;
}

/**
 * torch.nn.functional.interpolate's linear taps along one axis, for a scale factor. With
 * aligned corners the first and last samples of input and output coincide; otherwise samples
 * sit at pixel centres (source = (o + ½)/scale − ½, clamped at 0), and equal sizes copy.
 */
function taps(inSize: number, outSize: number, scale: number, alignCorners: boolean): Taps[] {
  return Array.from({ length: outSize }, (_, o) => {
    let source: number;
    if (alignCorners) source = outSize > 1 ? (o * (inSize - 1)) / (outSize - 1) : 0;
    else if (inSize === outSize) source = o;
    else source = Math.max((o + 0.5) / scale - 0.5, 0);
    const i0 = Math.min(Math.floor(source), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const w1 = source - i0;
    return { i0, i1, w0: 1 - w1, w1 };
  });
}

/** Calls fn(flat input index, weight, output index) for the four taps of every output element. */
function forEachTap(
  input: readonly number[],
  output: readonly number[],
  scale: readonly [number, number],
  alignCorners: boolean,
  fn: (at: number, weight: number, i: number) => void,
): void {
  const [n, c, inH, inW] = input;
  const [, , outH, outW] = output;
  const rows = taps(inH, outH, scale[0], alignCorners);
  const cols = taps(inW, outW, scale[1], alignCorners);
  let i = 0;
  for (let plane = 0; plane < n * c; plane++) {
    for (const r of rows) {
      for (const col of cols) {
        for (const [ih, wh] of [[r.i0, r.w0], [r.i1, r.w1]]) {
          for (const [iw, ww] of [[col.i0, col.w0], [col.i1, col.w1]]) fn((plane * inH + ih) * inW + iw, wh * ww, i);
        }
        i++;
      }
    }
  }
}

/** Bilinear resampling: each output is the weighted sum of its four taps. */
export function upsampleBilinear2dReference(x: HostArray, out: HostArray, scale: readonly [number, number], alignCorners: boolean): void {
  const sums = new Float64Array(out.data.length);
  forEachTap(x.shape, out.shape, scale, alignCorners, (at, weight, i) => {
    sums[i] += weight * x.data[at];
  });
  out.data.set(sums);
}

/** Gradient of bilinear resampling: each output's gradient goes back to its taps, by weight. */
export function upsampleBilinear2dBackwardReference(grad: HostArray, dx: HostArray, scale: readonly [number, number], alignCorners: boolean): void {
  const sums = new Float64Array(dx.data.length);
  forEachTap(dx.shape, grad.shape, scale, alignCorners, (at, weight, i) => {
    sums[at] += weight * grad.data[i];
  });
  dx.data.set(sums);
}
