import type { GpuContext } from '../backend/op_kernel.ts';
import type { KernelArg, Storage } from '../backend/storage.ts';
import type { GpuStorage } from '../backend/webgpu/gpu_storage.ts';
import type { GpuTraits } from '../backend/webgpu/traits.ts';
import { reducePrograms } from './reduce.ts';
import { reductionGeometry } from './reduction_plan.ts';
import { dispatch1d, MAX_WORKGROUPS_PER_DIM, type Program } from '../backend/webgpu/program.ts';

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

/**
 * The product C[rows, cols] = Σ_depth A·B each entry point computes per group and part. Parts:
 * the weight gradient's splits (blocks of images) or the input gradient's phases; for the
 * phases, cols and depth are those of the largest.
 */
interface Product {
  rows: number;
  cols: number;
  depth: number;
  parts: number;
  imagesPerSplit: number;
  /** Threads a direct kernel runs: one per output element. */
  outputs: number;
}

/**
 * Threads along the rows of a tile (2, 4 or 8): tiles of 16 x 256, 32 x 128 or 64 x 64, the
 * shortest that holds `rows`, so few channels waste few threads.
 */
function rowThreads(rows: number): number {
  return rows <= 16 ? 2 : rows <= 32 ? 4 : 8;
}

/** Rows and columns of the tile one GEMM workgroup computes. */
function tileOf(rows: number): { rows: number; cols: number } {
  const r = rowThreads(rows);
  return { rows: 8 * r, cols: 8 * (THREADS / r) };
}

/**
 * Which kernels compute a product: implicit GEMM tiles in workgroup memory (shaders/conv2d.wgsl),
 * one thread per output element (its `_direct` entry points), or register blocks shared through
 * subgroup broadcasts (shaders/conv2d_subgroups.wgsl).
 */
export type ConvKernel = 'gemm' | 'direct' | 'subgroup';

/** Forces one kind of kernel for every product (for tests and benchmarks); null: chosen by shape and device. */
export const convKernelChoice: { force: ConvKernel | null } = { force: null };

/** The kinds of kernel a device can run: the subgroup kernels need subgroups. */
export function convKernelsOn(traits: GpuTraits): ConvKernel[] {
  return traits.subgroups ? ['gemm', 'direct', 'subgroup'] : ['gemm', 'direct'];
}

/**
 * Where the device tiles with subgroups (`GpuTraits.convTiling`, software adapters), the
 * subgroup kernels, but for products of a single row (depthwise convolutions), which would
 * waste three rows in four of their tiles. Otherwise GEMM tiles when the product fills at
 * least half a tile in rows and columns and two steps in depth, and else (few channels per
 * group, a single input channel, a tiny weight's gradient) the direct kernels, which waste
 * nothing. Measured on SwiftShader (docs/conv2d.md).
 */
export function chooseKernel(p: { rows: number; cols: number; depth: number }, traits: GpuTraits): ConvKernel {
  const forced = convKernelChoice.force;
  if (forced) {
    if (!convKernelsOn(traits).includes(forced)) throw new Error(`conv2d: the ${forced} kernels need a device with subgroups turned on`);
    return forced;
  }
  if (traits.convTiling === 'subgroup' && traits.subgroups && p.rows >= 2) return 'subgroup';
  const tile = tileOf(p.rows);
  return 2 * p.rows >= 16 && 2 * p.cols >= tile.cols && p.depth >= 2 * BK ? 'gemm' : 'direct';
}

/** Quads of rows (4 each) of a subgroup tile: the fewest that hold `rows`, at most 8. */
function subgroupQuads(rows: number): number {
  return Math.min(8, Math.max(1, Math.ceil(rows / 4)));
}

/**
 * Invocations of a subgroup workgroup, each owning 4 columns: the size (64 down to 4) whose
 * tiles cover `cols` with the fewest columns to spare, the larger on a tie.
 */
function subgroupThreads(cols: number): number {
  let best = 64;
  for (const t of [32, 16, 8, 4]) {
    if (Math.ceil(cols / (4 * t)) * 4 * t < Math.ceil(cols / (4 * best)) * 4 * best) best = t;
  }
  return best;
}

/** Rows and columns of the tile one workgroup of `kernel` computes. */
function tileFor(kernel: 'gemm' | 'subgroup', p: { rows: number; cols: number }): { rows: number; cols: number } {
  return kernel === 'gemm' ? tileOf(p.rows) : { rows: 4 * subgroupQuads(p.rows), cols: 4 * subgroupThreads(p.cols) };
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

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
    tap_step_h: g.strideH / gcd(g.strideH, g.dilationH),
    tap_step_w: g.strideW / gcd(g.strideW, g.dilationW),
  };
}

/**
 * The product as GEMM tiles (`entryPoint` of conv2d), one thread per output element
 * (`entryPoint`_direct) or subgroup register blocks (`entryPoint` of conv2d_subgroups).
 */
function productProgram(op: string, entryPoint: string, g: Conv2dGeometry, p: Product, bindings: Record<string, Storage>, hasBias: boolean, traits: GpuTraits): Program {
  const kernel = chooseKernel(p, traits);
  if (kernel === 'direct') {
    return { kernel: 'conv2d', entryPoint: `${entryPoint}_direct`, overrides: { HAS_BIAS: hasBias }, uniforms: uniformsOf(g, p, 1, 1), bindings, dispatch: dispatch1d(p.outputs, WG) };
  }
  const tile = tileFor(kernel, p);
  const rowTiles = Math.max(1, Math.ceil(p.rows / tile.rows));
  const colTiles = Math.max(1, Math.ceil(p.cols / tile.cols));
  // Column tiles fold into x and y; z enumerates (row tile, group, part).
  const y = Math.ceil(colTiles / MAX_WORKGROUPS_PER_DIM);
  const x = Math.ceil(colTiles / y);
  const z = rowTiles * g.groups * p.parts;
  if (z > MAX_WORKGROUPS_PER_DIM) {
    throw new Error(`${op}: too large for one GPU dispatch (${g.groups} groups of ${p.rows} channels${p.parts > 1 ? `, ${p.parts} parts` : ''}): at most ${MAX_WORKGROUPS_PER_DIM} tiles of ${tile.rows} channels`);
  }
  const overrides: Record<string, number | boolean> = kernel === 'gemm' ? { ROW_THREADS: rowThreads(p.rows), HAS_BIAS: hasBias } : { QUADS: tile.rows / 4, THREADS: tile.cols / 4, HAS_BIAS: hasBias };
  return { kernel: kernel === 'gemm' ? 'conv2d' : 'conv2d_subgroups', entryPoint, overrides, uniforms: uniformsOf(g, p, rowTiles, colTiles), bindings, dispatch: [x, y, z] };
}

const taps = (g: Conv2dGeometry): number => g.kernelH * g.kernelW;

/** y = conv2d(x, w) + bias (bias per output channel, when given). */
export function conv2dProgram(g: Conv2dGeometry, x: KernelArg<GpuStorage>, w: KernelArg<GpuStorage>, bias: KernelArg<GpuStorage> | null, y: KernelArg<GpuStorage>, traits: GpuTraits): Program {
  const cin = g.inChannels / g.groups;
  const cols = g.batch * g.outH * g.outW;
  const product = { rows: g.outChannels / g.groups, cols, depth: cin * taps(g), parts: 1, imagesPerSplit: g.batch, outputs: cols * g.outChannels };
  // Without a bias the weight is bound in its place (HAS_BIAS = false never reads it).
  return productProgram('conv2d', 'forward', g, product, { x: x.storage, weight: w.storage, bias: (bias ?? w).storage, y: y.storage }, bias !== null, traits);
}

/**
 * dx, the gradient of conv2d's input, from dy: the transposed convolution of dy with w, plus
 * `bias` per channel of dx when given (the transposed convolution's own bias). With a stride,
 * one part per sub-pixel phase (stride_h · stride_w of them), each over its own taps.
 */
export function conv2dInputGradProgram(op: string, g: Conv2dGeometry, dy: KernelArg<GpuStorage>, w: KernelArg<GpuStorage>, bias: KernelArg<GpuStorage> | null, dx: KernelArg<GpuStorage>, traits: GpuTraits): Program {
  const tapStep = [g.strideH / gcd(g.strideH, g.dilationH), g.strideW / gcd(g.strideW, g.dilationW)];
  // Phase 0 has the most positions; no phase has more taps than ceil(kernel / tap step).
  const cols = g.batch * Math.ceil(g.inH / g.strideH) * Math.ceil(g.inW / g.strideW);
  const depth = (g.outChannels / g.groups) * Math.ceil(g.kernelH / tapStep[0]) * Math.ceil(g.kernelW / tapStep[1]);
  const product = { rows: g.inChannels / g.groups, cols, depth, parts: g.strideH * g.strideW, imagesPerSplit: g.batch, outputs: g.batch * g.inChannels * g.inH * g.inW };
  return productProgram(op, 'input_grad', g, product, { dy: dy.storage, weight: w.storage, bias: (bias ?? w).storage, dx: dx.storage }, bias !== null, traits);
}

/** Images per split when the batch is cut into `splits` blocks (the last may be shorter). */
export function imagesPerSplit(batch: number, splits: number): number {
  return Math.max(1, Math.ceil(batch / splits));
}

/**
 * How many blocks of images the weight gradient is split into on the GPU: enough workgroups
 * (tiles) or threads (direct) to occupy the device, a minimum of products summed per output,
 * and a count that leaves no block empty. A GPU wants hundreds of workgroups and sums short
 * blocks cheaply (on an H100 model S's weight gradients took 2 of its 3 ms per step in 3 to 6
 * workgroups each); a software adapter runs a workgroup as one core's turn, so it aims at few
 * (64 tiles, 32 for the subgroup kernels) with long blocks.
 */
export function weightGradSplits(g: Conv2dGeometry, traits: GpuTraits): number {
  const minSplitDepth = traits.software ? 2048 : 256;
  const rows = g.outChannels / g.groups;
  const cols = (g.inChannels / g.groups) * taps(g);
  const depth = g.batch * g.outH * g.outW;
  const kernel = chooseKernel({ rows, cols, depth }, traits);
  let wanted: number;
  if (kernel === 'direct') {
    // About 64 workgroups (256 on a GPU) of threads, one per (split, weight element).
    wanted = Math.ceil(((traits.software ? 64 : 256) * WG) / (rows * cols * g.groups));
  } else {
    const tile = tileFor(kernel, { rows, cols });
    const tiles = Math.ceil(rows / tile.rows) * Math.ceil(cols / tile.cols) * g.groups;
    const target = traits.software ? (kernel === 'gemm' ? 64 : 32) : 256;
    wanted = Math.min(Math.ceil(target / tiles), Math.max(1, Math.floor(depth / minSplitDepth)));
  }
  wanted = Math.min(g.batch, wanted);
  if (wanted <= 1) return 1;
  return Math.ceil(g.batch / imagesPerSplit(g.batch, wanted));
}

/**
 * The weight gradient into `dw`: in one pass, or (`splits` > 1, by default as
 * `weightGradSplits` chooses) as partial sums [splits, ...weight shape] over blocks of images
 * into scratch storage, summed by a reduction.
 */
export function conv2dWeightGradPrograms(g: Conv2dGeometry, x: KernelArg<GpuStorage>, dy: KernelArg<GpuStorage>, dw: KernelArg<GpuStorage>, ctx: GpuContext, splits = weightGradSplits(g, ctx.traits)): Program[] {
  if (splits === 1) return [weightGradProgram(g, x, dy, dw, 1, ctx.traits)];
  const size = dw.storage.size;
  const partials = ctx.scratch(splits * size, 'partial sums over blocks of images');
  return [
    weightGradProgram(g, x, dy, partials, splits, ctx.traits),
    ...reducePrograms('sum', partials, dw, reductionGeometry([splits, size], [0]), 0, ctx),
  ];
}

/** dw partial sums [splits, outChannels, inChannels / groups, kernelH, kernelW], one per block of images. */
function weightGradProgram(g: Conv2dGeometry, x: KernelArg<GpuStorage>, dy: KernelArg<GpuStorage>, dw: KernelArg<GpuStorage>, splits: number, traits: GpuTraits): Program {
  const perSplit = imagesPerSplit(g.batch, splits);
  const rows = g.outChannels / g.groups;
  const cols = (g.inChannels / g.groups) * taps(g);
  const product = { rows, cols, depth: perSplit * g.outH * g.outW, parts: splits, imagesPerSplit: perSplit, outputs: splits * g.outChannels * cols };
  return productProgram('conv2dWeightGrad', 'weight_grad', g, product, { x: x.storage, dy: dy.storage, dw: dw.storage }, false, traits);
}
