import type { KernelArg, Storage } from '../backend/backend.ts';
import type { GpuStorage } from '../backend/webgpu/webgpu_backend.ts';
import { dispatch1d, MAX_WORKGROUPS_PER_DIM, type Program } from './program.ts';

/**
 * One convolution, described from the forward's side: an input [batch, inChannels, inH, inW]
 * convolved with a weight [outChannels, inChannels / groups, kernelH, kernelW] gives an output
 * [batch, outChannels, outH, outW]. A transposed convolution is described by the convolution
 * it transposes (its output is this input).
 */
export interface Conv2dGeometry {
  readonly batch: number;
  readonly inChannels: number;
  readonly inH: number;
  readonly inW: number;
  readonly outChannels: number;
  readonly outH: number;
  readonly outW: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly groups: number;
}

/** Threads of a GEMM workgroup of shaders/conv2d.wgsl; each computes an 8 x 8 block of the product. */
const THREADS = 64;
/** Depth of one step through the GEMM tiles. */
const BK = 8;
/** Threads of a workgroup of the direct kernels. */
const WG = 256;

/** The product C[rows, cols] = Σ_depth A·B each entry point computes per group (and split). */
interface Product {
  rows: number;
  cols: number;
  depth: number;
  splits: number;
  imagesPerSplit: number;
}

/**
 * Threads along the rows of a tile (2, 4 or 8): tiles of 16 x 256, 32 x 128 or 64 x 64, the
 * shortest that holds `rows`, so few channels waste few threads.
 */
function rowThreads(rows: number): number {
  return rows <= 16 ? 2 : rows <= 32 ? 4 : 8;
}

/** Rows and columns of the tile one workgroup computes. */
function tileOf(rows: number): { rows: number; cols: number } {
  const r = rowThreads(rows);
  return { rows: 8 * r, cols: 8 * (THREADS / r) };
}

/** Which kernels compute a product: implicit GEMM tiles, or one thread per output element. */
export type ConvKernel = 'gemm' | 'direct';

/** Forces one kind of kernel for every product (for tests and benchmarks); null: chosen by shape. */
export const convKernelChoice: { force: ConvKernel | null } = { force: null };

/**
 * GEMM tiles when the product fills at least half a tile in rows and columns and two steps
 * in depth; otherwise (few channels per group, as in depthwise convolutions, a single input
 * channel, a tiny weight's gradient) the direct kernels, which waste nothing. Measured on
 * SwiftShader (docs/conv2d.md): a full tile does 5-7 times the useful work per second of a
 * direct kernel, a half-full one about twice, a quarter-full one less.
 */
export function chooseKernel(p: { rows: number; cols: number; depth: number }): ConvKernel {
  if (convKernelChoice.force) return convKernelChoice.force;
  const tile = tileOf(p.rows);
  return 2 * p.rows >= 16 && 2 * p.cols >= tile.cols && p.depth >= 2 * BK ? 'gemm' : 'direct';
}

function uniformsOf(g: Conv2dGeometry, p: Product, rowTiles: number, colTiles: number): Record<string, number> {
  return {
    batch: g.batch,
    in_channels: g.inChannels,
    in_h: g.inH,
    in_w: g.inW,
    out_channels: g.outChannels,
    out_h: g.outH,
    out_w: g.outW,
    kernel_h: g.kernelH,
    kernel_w: g.kernelW,
    stride_h: g.strideH,
    stride_w: g.strideW,
    pad_h: g.padH,
    pad_w: g.padW,
    dilation_h: g.dilationH,
    dilation_w: g.dilationW,
    groups: g.groups,
    rows: p.rows,
    cols: p.cols,
    depth: p.depth,
    row_tiles: rowTiles,
    col_tiles: colTiles,
    images_per_split: p.imagesPerSplit,
  };
}

/** The product as GEMM tiles (entry point `entryPoint`) or one thread per output element (`entryPoint`_direct). */
function productProgram(op: string, entryPoint: string, g: Conv2dGeometry, p: Product, bindings: Record<string, Storage>, hasBias: boolean): Program {
  if (chooseKernel(p) === 'direct') {
    const outputs = p.rows * p.cols * g.groups * p.splits;
    return { kernel: 'conv2d', entryPoint: `${entryPoint}_direct`, overrides: { HAS_BIAS: hasBias }, uniforms: uniformsOf(g, p, 1, 1), bindings, dispatch: dispatch1d(outputs, WG) };
  }
  const tile = tileOf(p.rows);
  const rowTiles = Math.max(1, Math.ceil(p.rows / tile.rows));
  const colTiles = Math.max(1, Math.ceil(p.cols / tile.cols));
  // Column tiles fold into x and y; z enumerates (row tile, group, split).
  const y = Math.ceil(colTiles / MAX_WORKGROUPS_PER_DIM);
  const x = Math.ceil(colTiles / y);
  const z = rowTiles * g.groups * p.splits;
  if (z > MAX_WORKGROUPS_PER_DIM) {
    throw new Error(`${op}: too large for one GPU dispatch (${g.groups} groups of ${p.rows} channels${p.splits > 1 ? `, ${p.splits} splits` : ''}): at most ${MAX_WORKGROUPS_PER_DIM} tiles of ${tile.rows} channels`);
  }
  return {
    kernel: 'conv2d',
    entryPoint,
    overrides: { ROW_THREADS: rowThreads(p.rows), HAS_BIAS: hasBias },
    uniforms: uniformsOf(g, p, rowTiles, colTiles),
    bindings,
    dispatch: [x, y, z],
  };
}

const taps = (g: Conv2dGeometry): number => g.kernelH * g.kernelW;

/** y = conv2d(x, w) + bias (bias per output channel, when given). */
export function conv2dProgram(g: Conv2dGeometry, x: KernelArg<GpuStorage>, w: KernelArg<GpuStorage>, bias: KernelArg<GpuStorage> | null, y: KernelArg<GpuStorage>): Program {
  const cin = g.inChannels / g.groups;
  const product = { rows: g.outChannels / g.groups, cols: g.batch * g.outH * g.outW, depth: cin * taps(g), splits: 1, imagesPerSplit: g.batch };
  // Without a bias the weight is bound in its place (HAS_BIAS = false never reads it).
  return productProgram('conv2d', 'forward', g, product, { x: x.storage, weight: w.storage, bias: (bias ?? w).storage, y: y.storage }, bias !== null);
}

/**
 * dx, the gradient of conv2d's input, from dy: the transposed convolution of dy with w, plus
 * `bias` per channel of dx when given (the transposed convolution's own bias).
 */
export function conv2dInputGradProgram(op: string, g: Conv2dGeometry, dy: KernelArg<GpuStorage>, w: KernelArg<GpuStorage>, bias: KernelArg<GpuStorage> | null, dx: KernelArg<GpuStorage>): Program {
  const product = { rows: g.inChannels / g.groups, cols: g.batch * g.inH * g.inW, depth: (g.outChannels / g.groups) * taps(g), splits: 1, imagesPerSplit: g.batch };
  return productProgram(op, 'input_grad', g, product, { dy: dy.storage, weight: w.storage, bias: (bias ?? w).storage, dx: dx.storage }, bias !== null);
}

/** Images per split when the batch is cut into `splits` blocks (the last may be shorter). */
export function imagesPerSplit(batch: number, splits: number): number {
  return Math.max(1, Math.ceil(batch / splits));
}

/**
 * How many blocks of images the weight gradient is split into on the GPU: enough workgroups
 * (GEMM tiles) or threads (direct) to occupy the device, at least MIN_SPLIT_DEPTH products
 * summed per output, and a count that leaves no block empty.
 */
export function weightGradSplits(g: Conv2dGeometry): number {
  const MIN_SPLIT_DEPTH = 2048;
  const rows = g.outChannels / g.groups;
  const cols = (g.inChannels / g.groups) * taps(g);
  const depth = g.batch * g.outH * g.outW;
  let wanted: number;
  if (chooseKernel({ rows, cols, depth }) === 'direct') {
    // About 64 workgroups of threads, one per (split, weight element).
    wanted = Math.ceil((64 * WG) / (rows * cols * g.groups));
  } else {
    const tile = tileOf(rows);
    wanted = Math.min(Math.ceil(64 / (Math.ceil(rows / tile.rows) * Math.ceil(cols / tile.cols) * g.groups)), Math.max(1, Math.floor(depth / MIN_SPLIT_DEPTH)));
  }
  wanted = Math.min(g.batch, wanted);
  if (wanted <= 1) return 1;
  return Math.ceil(g.batch / imagesPerSplit(g.batch, wanted));
}

/** dw partial sums [splits, outChannels, inChannels / groups, kernelH, kernelW], one per block of images. */
export function conv2dWeightGradProgram(g: Conv2dGeometry, x: KernelArg<GpuStorage>, dy: KernelArg<GpuStorage>, dw: KernelArg<GpuStorage>, splits: number): Program {
  const perSplit = imagesPerSplit(g.batch, splits);
  const product = { rows: g.outChannels / g.groups, cols: (g.inChannels / g.groups) * taps(g), depth: perSplit * g.outH * g.outW, splits, imagesPerSplit: perSplit };
  return productProgram('conv2dWeightGrad', 'weight_grad', g, product, { x: x.storage, dy: dy.storage, dw: dw.storage }, false);
}
