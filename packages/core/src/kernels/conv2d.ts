import type { KernelArg, Storage } from '../backend/backend.ts';
import type { GpuStorage } from '../backend/webgpu/webgpu_backend.ts';
import { MAX_WORKGROUPS_PER_DIM, type Program } from './program.ts';

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

/** Columns of the product one workgroup of shaders/conv2d.wgsl computes. */
const TILE_COLS = 64;
/** Threads per side of a workgroup; a tile has this many rows per ROWS_PER_THREAD. */
const THREADS = 16;

/** The product C[rows, cols] = Σ_depth A·B each entry point computes per group (and split). */
interface Product {
  rows: number;
  cols: number;
  depth: number;
  splits: number;
  imagesPerSplit: number;
}

/** Rows per thread: the smallest tile (16, 32 or 64 rows) that holds `rows`, so few channels waste few threads. */
function rowsPerThread(rows: number): number {
  return rows <= THREADS ? 1 : rows <= 2 * THREADS ? 2 : 4;
}

function productProgram(op: string, entryPoint: string, g: Conv2dGeometry, p: Product, bindings: Record<string, Storage>, hasBias: boolean): Program {
  const perThread = rowsPerThread(p.rows);
  const rowTiles = Math.max(1, Math.ceil(p.rows / (THREADS * perThread)));
  const colTiles = Math.max(1, Math.ceil(p.cols / TILE_COLS));
  // Column tiles fold into x and y; z enumerates (row tile, group, split).
  const y = Math.ceil(colTiles / MAX_WORKGROUPS_PER_DIM);
  const x = Math.ceil(colTiles / y);
  const z = rowTiles * g.groups * p.splits;
  if (z > MAX_WORKGROUPS_PER_DIM) {
    throw new Error(`${op}: too large for one GPU dispatch (${g.groups} groups of ${p.rows} channels${p.splits > 1 ? `, ${p.splits} splits` : ''}): at most ${MAX_WORKGROUPS_PER_DIM} tiles of ${THREADS * perThread} channels`);
  }
  return {
    kernel: 'conv2d',
    entryPoint,
    overrides: { ROWS_PER_THREAD: perThread, HAS_BIAS: hasBias },
    uniforms: {
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
    },
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
 * to occupy the device, but at least MIN_SPLIT_DEPTH products summed per block, and a count
 * that leaves no block empty.
 */
export function weightGradSplits(g: Conv2dGeometry): number {
  const TARGET_WORKGROUPS = 64;
  const MIN_SPLIT_DEPTH = 2048;
  const rows = g.outChannels / g.groups;
  const tiles = Math.ceil(rows / (THREADS * rowsPerThread(rows))) * Math.ceil(((g.inChannels / g.groups) * taps(g)) / TILE_COLS) * g.groups;
  const depth = g.batch * g.outH * g.outW;
  const wanted = Math.min(g.batch, Math.ceil(TARGET_WORKGROUPS / tiles), Math.max(1, Math.floor(depth / MIN_SPLIT_DEPTH)));
  if (wanted <= 1) return 1;
  return Math.ceil(g.batch / imagesPerSplit(g.batch, wanted));
}

/** dw partial sums [splits, outChannels, inChannels / groups, kernelH, kernelW], one per block of images. */
export function conv2dWeightGradProgram(g: Conv2dGeometry, x: KernelArg<GpuStorage>, dy: KernelArg<GpuStorage>, dw: KernelArg<GpuStorage>, splits: number): Program {
  const perSplit = imagesPerSplit(g.batch, splits);
  const product = { rows: g.outChannels / g.groups, cols: (g.inChannels / g.groups) * taps(g), depth: perSplit * g.outH * g.outW, splits, imagesPerSplit: perSplit };
  return productProgram('conv2d', 'weight_grad', g, product, { x: x.storage, dy: dy.storage, dw: dw.storage }, false);
}
