import type { Conv2dGeometry } from '../kernels/conv2d.ts';

/*
 * The convolution as PyTorch defines it, written as plain loops over every output position
 * and kernel tap, accumulating in float64:
 *
 *   y[n, o, oy, ox] = b[o] + Σ_{c, ky, kx} w[o, c, ky, kx] · x[n, g·Cin/G + c, oy·s − p + ky·d, ox·s − p + kx·d]
 *
 * with g = ⌊o / (Cout/G)⌋ the group of output channel o and x zero outside the image. The
 * input gradient (which is the transposed convolution) and the weight gradient walk the same
 * (output position, tap) pairs and scatter the products where they belong.
 */

/** Calls fn(xAt, wAt, yAt) for every product x[xAt] · w[wAt] that the forward adds into y[yAt]. */
function forEachTap(g: Conv2dGeometry, images: [number, number], fn: (xAt: number, wAt: number, yAt: number) => void): void {
  const cinPerGroup = g.inChannels / g.groups;
  const coutPerGroup = g.outChannels / g.groups;
  for (let n = images[0]; n < images[1]; n++) {
    for (let o = 0; o < g.outChannels; o++) {
      const group = Math.floor(o / coutPerGroup);
      for (let oy = 0; oy < g.outH; oy++) {
        for (let ox = 0; ox < g.outW; ox++) {
          const yAt = ((n * g.outChannels + o) * g.outH + oy) * g.outW + ox;
          for (let c = 0; c < cinPerGroup; c++) {
            const channel = group * cinPerGroup + c;
            for (let ky = 0; ky < g.kernelH; ky++) {
              const iy = oy * g.strideH - g.padH + ky * g.dilationH;
              if (iy < 0 || iy >= g.inH) continue;
              for (let kx = 0; kx < g.kernelW; kx++) {
                const ix = ox * g.strideW - g.padW + kx * g.dilationW;
                if (ix < 0 || ix >= g.inW) continue;
                const xAt = ((n * g.inChannels + channel) * g.inH + iy) * g.inW + ix;
                const wAt = ((o * cinPerGroup + c) * g.kernelH + ky) * g.kernelW + kx;
                fn(xAt, wAt, yAt);
              }
            }
          }
        }
      }
    }
  }
}

/** The bias of each channel added to every position of that channel of `out`. */
function withBias(sums: Float64Array, out: Float32Array, bias: Float32Array | null, channels: number, plane: number): void {
  for (let i = 0; i < out.length; i++) out[i] = sums[i] + (bias ? bias[Math.floor(i / plane) % channels] : 0);
}

/** torch.nn.functional.conv2d: x [N, Cin, H, W], w [Cout, Cin/G, kH, kW], optional bias [Cout]. */
export function conv2dReference(x: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array, g: Conv2dGeometry): void {
  const sums = new Float64Array(out.length);
  forEachTap(g, [0, g.batch], (xAt, wAt, yAt) => {
    sums[yAt] += x[xAt] * w[wAt];
  });
  withBias(sums, out, bias, g.outChannels, g.outH * g.outW);
}

/**
 * The gradient of conv2d's input from the gradient of its output dy [N, Cout, outH, outW]:
 * every product the forward formed sends dy · w back to the input element it read. This is
 * torch.nn.functional.conv_transpose2d of dy with w (weight [Cout, Cin/G, kH, kW] read as
 * [in, out/G, kH, kW]); `bias` [Cin], when given, is its bias.
 */
export function conv2dInputGradReference(dy: Float32Array, w: Float32Array, bias: Float32Array | null, dx: Float32Array, g: Conv2dGeometry): void {
  const sums = new Float64Array(dx.length);
  forEachTap(g, [0, g.batch], (xAt, wAt, yAt) => {
    sums[xAt] += dy[yAt] * w[wAt];
  });
  withBias(sums, dx, bias, g.inChannels, g.inH * g.inW);
}

/** The gradient of conv2d's weight [Cout, Cin/G, kH, kW]: dw = Σ over the batch and positions of dy · x. */
export function conv2dWeightGradReference(x: Float32Array, dy: Float32Array, dw: Float32Array, g: Conv2dGeometry): void {
  const sums = new Float64Array(dw.length);
  forEachTap(g, [0, g.batch], (xAt, wAt, yAt) => {
    sums[wAt] += x[xAt] * dy[yAt];
  });
  dw.set(sums);
}
