// 2-D convolution (torch conv2d, NCHW, zero padding) and its gradients as implicit GEMM: each
// is a product C[rows, cols] = A[rows, depth] · B[depth, cols] per group, whose operands are
// read straight from the tensors (no im2col buffer):
//
//   forward       y  [o, (n, oy, ox)]  = Σ_(c, ky, kx)  w[o, (c, ky, kx)]  · x at the tap
//   input_grad    dx [c, (n, iy, ix)]  = Σ_(o, ky, kx)  w[o, c, ky, kx]    · dy where the tap lands
//   weight_grad   dw [o, (c, ky, kx)]  = Σ_(n, oy, ox)  dy[n, o, oy, ox]   · x at the tap
//
// (o, c: output and input channel within the group.) input_grad is also the transposed
// convolution's forward, with its bias.
//
// A workgroup of 64 threads computes a tile of C of 8·ROW_THREADS rows by 8·(64 / ROW_THREADS)
// columns (64 x 64, 32 x 128 or 16 x 256, the shortest that holds the rows), each thread an
// 8 x 8 block held in registers: every value read from workgroup memory feeds 8 products. Depth
// is walked in steps of BK through tiles of A and B staged in workgroup memory. The coordinates
// a depth index stands for are decoded once per workgroup into `decoded`, and those of the
// columns a thread loads once into registers, so the gathers divide nothing.
// workgroup_id.z enumerates (row tile, group, part). weight_grad's parts split the images into
// blocks summed afterwards, so that a long sum over the batch spreads over workgroups;
// input_grad's parts are the stride's sub-pixel phases (lib/conv2d_common.wgsl), each a dense
// product over its own taps, so a stride s costs no s² − 1 products in s² that add zeros.
// shaders/conv2d_subgroups.wgsl computes the same products for software adapters.
// #include "lib/conv2d_common.wgsl"

// Threads along the rows of a tile: 2, 4 or 8.
override ROW_THREADS: u32 = 8u;
override HAS_BIAS: bool = false;

const THREADS: u32 = 64u;
const BK: u32 = 8u;
// Depth indices decoded at a time (a multiple of BK).
const DECODED: u32 = 256u;

// Depth-major tiles: tile_a[k][row], tile_b[k][col].
var<workgroup> tile_a: array<array<f32, 64>, BK>;
var<workgroup> tile_b: array<array<f32, 256>, BK>;
// Per depth index: offsets and positions it stands for (meaning per entry point).
var<workgroup> decoded: array<vec4<i32>, DECODED>;

// The thread's 8 x 8 block: rows ty + i·ROW_THREADS, columns tx + j·col_threads(), as four
// 4 x 4 quarters (rows 0-3 or 4-7, columns 0-3 or 4-7) whose matrix column j is block column j.
var<private> c00: mat4x4<f32>;
var<private> c01: mat4x4<f32>;
var<private> c10: mat4x4<f32>;
var<private> c11: mat4x4<f32>;

fn col_threads() -> u32 { return THREADS / ROW_THREADS; }
fn tile_rows() -> u32 { return 8u * ROW_THREADS; }
fn tile_cols() -> u32 { return 8u * col_threads(); }
// Columns of B's tile each thread loads: t + q·THREADS for q < slots().
fn slots() -> u32 { return tile_cols() / THREADS; }

// Where a workgroup's tile lies (the same for all its threads).
struct Tile {
  group: u32,
  // The weight gradient's split, or the input gradient's phase.
  part: u32,
  row0: u32,
  col0: u32,
  valid: bool,
}

fn locate(wid: vec3u, groups: vec3u) -> Tile {
  let col_tile = wid.x + wid.y * groups.x;
  let rest = wid.z / params.row_tiles;
  return Tile(rest % params.groups, rest / params.groups, (wid.z % params.row_tiles) * tile_rows(),
              col_tile * tile_cols(), col_tile < params.col_tiles);
}

fn outer(a: vec4<f32>, b: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(a * b.x, a * b.y, a * b.z, a * b.w);
}

// Neighbouring threads read neighbouring columns (and equal rows) of the tiles.
fn multiply_tiles(t: u32) {
  let ty = t / col_threads();
  let tx = t % col_threads();
  let rs = ROW_THREADS;
  let cs = col_threads();
  for (var k = 0u; k < BK; k++) {
    let a0 = vec4<f32>(tile_a[k][ty], tile_a[k][ty + rs], tile_a[k][ty + 2u * rs], tile_a[k][ty + 3u * rs]);
    let a1 = vec4<f32>(tile_a[k][ty + 4u * rs], tile_a[k][ty + 5u * rs], tile_a[k][ty + 6u * rs], tile_a[k][ty + 7u * rs]);
    let b0 = vec4<f32>(tile_b[k][tx], tile_b[k][tx + cs], tile_b[k][tx + 2u * cs], tile_b[k][tx + 3u * cs]);
    let b1 = vec4<f32>(tile_b[k][tx + 4u * cs], tile_b[k][tx + 5u * cs], tile_b[k][tx + 6u * cs], tile_b[k][tx + 7u * cs]);
    c00 += outer(a0, b0);
    c01 += outer(a0, b1);
    c10 += outer(a1, b0);
    c11 += outer(a1, b1);
  }
}

// Element (i, j) of the thread's block.
fn block_value(i: u32, j: u32) -> f32 {
  var m = c00;
  if (i >= 4u && j >= 4u) { m = c11; } else if (i >= 4u) { m = c10; } else if (j >= 4u) { m = c01; }
  return m[j % 4u][i % 4u];
}

// The row and column of C that element (i, j) of thread t's block is.
fn block_row(tile: Tile, t: u32, i: u32) -> u32 { return tile.row0 + t / col_threads() + i * ROW_THREADS; }
fn block_col(tile: Tile, t: u32, j: u32) -> u32 { return tile.col0 + t % col_threads() + j * col_threads(); }

fn inside(iy: i32, ix: i32) -> bool {
  return iy >= 0 && iy < i32(params.in_h) && ix >= 0 && ix < i32(params.in_w);
}

// x at a column's base offset and position (state: offset, y, x, in range) shifted by a
// depth's (e: offset, dy, dx); zero outside the image. The forward and weight_grad gather.
fn gather_x(state: vec4<i32>, e: vec4<i32>) -> f32 {
  if (state.w == 0 || !inside(state.y + e.y, state.z + e.z)) { return 0.0; }
  return x[u32(state.x + e.x)];
}

// A kernel tap (channel·taps + tap) as (channel · channel_stride, ky·dilation, kx·dilation,
// channel · taps · a_stride + tap).
fn decode_tap(k: u32, channel_stride: u32, a_stride: u32) -> vec4<i32> {
  let channel = k / taps();
  let tap = k % taps();
  return vec4<i32>(i32(channel * channel_stride), i32((tap / params.kernel_w) * params.dilation_h),
                   i32((tap % params.kernel_w) * params.dilation_w), i32(channel * taps() * a_stride + tap));
}

// The forward's column: output position (n, oy, ox) as (offset of x at the top-left tap, its
// row, its column, in range).
fn forward_column(tile: Tile, col: u32) -> vec4<i32> {
  let cin = params.in_channels / params.groups;
  let pos = col % out_plane();
  let y0 = i32((pos / params.out_w) * params.stride_h) - i32(params.pad_h);
  let x0 = i32((pos % params.out_w) * params.stride_w) - i32(params.pad_w);
  let base = i32(((col / out_plane()) * params.in_channels + tile.group * cin) * in_plane()) + y0 * i32(params.in_w) + x0;
  return vec4<i32>(base, y0, x0, select(0, 1, col < params.cols));
}

@compute @workgroup_size(THREADS)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) t: u32) {
  let tile = locate(wid, groups);
  if (!tile.valid) { return; }
  var columns: array<vec4<i32>, 4>;
  for (var q = 0u; q < slots(); q++) { columns[q] = forward_column(tile, tile.col0 + t + q * THREADS); }
  let w_base = tile.group * params.rows * params.depth;

  for (var k0 = 0u; k0 < params.depth; k0 += BK) {
    if (k0 % DECODED == 0u) {
      for (var i = t; i < DECODED; i += THREADS) {
        let e = decode_tap(k0 + i, in_plane(), 0u);
        decoded[i] = vec4<i32>(e.x + e.y * i32(params.in_w) + e.z, e.y, e.z, 0);
      }
      workgroupBarrier();
    }
    for (var l = t; l < tile_rows() * BK; l += THREADS) {
      let row = tile.row0 + l % tile_rows();
      let k = k0 + l / tile_rows();
      var v = 0.0;
      if (row < params.rows && k < params.depth) { v = weight[w_base + row * params.depth + k]; }
      tile_a[l / tile_rows()][l % tile_rows()] = v;
    }
    for (var q = 0u; q < slots(); q++) {
      let column = columns[q];
      for (var d = 0u; d < BK; d++) {
        var v = 0.0;
        if (k0 + d < params.depth) { v = gather_x(column, decoded[(k0 + d) % DECODED]); }
        tile_b[d][t + q * THREADS] = v;
      }
    }
    workgroupBarrier();
    multiply_tiles(t);
    workgroupBarrier();
  }

  for (var i = 0u; i < 8u; i++) {
    let row = block_row(tile, t, i);
    if (row >= params.rows) { break; }
    let o = tile.group * params.rows + row;
    var b = 0.0;
    if (HAS_BIAS) { b = bias[o]; }
    for (var j = 0u; j < 8u; j++) {
      let c = block_col(tile, t, j);
      if (c >= params.cols) { break; }
      y[((c / out_plane()) * params.out_channels + o) * out_plane() + c % out_plane()] = block_value(i, j) + b;
    }
  }
}

// input_grad's column `col` of a phase (rows py, columns px): input position
// (n, py.phase + s·i, px.phase + s·k) as (offset of dy for the group at output position
// (i + py.shift, k + px.shift), that row, that column, in range).
fn input_grad_column(tile: Tile, py: PhaseAxis, px: PhaseAxis, cols: u32, col: u32) -> vec4<i32> {
  let cout = params.out_channels / params.groups;
  let per_image = py.positions * px.positions;
  let r = col % per_image;
  let oy = i32(r / px.positions) + py.shift;
  let ox = i32(r % px.positions) + px.shift;
  let base = i32(((col / per_image) * params.out_channels + tile.group * cout) * out_plane()) + oy * i32(params.out_w) + ox;
  return vec4<i32>(base, oy, ox, select(0, 1, col < cols));
}

// A phase's tap (o, j, l), o·count_y·count_x + j·count_x + l, as (offset in dy, row shift,
// column shift, offset in the weight of group 0's channel 0).
fn decode_phase_tap(k: u32, py: PhaseAxis, px: PhaseAxis) -> vec4<i32> {
  let cin = params.in_channels / params.groups;
  let per_o = py.count * px.count;
  let o = k / per_o;
  let j = (k % per_o) / px.count;
  let l = k % px.count;
  let ey = -i32(j) * py.out_step;
  let ex = -i32(l) * px.out_step;
  let tap = (py.first + j * params.tap_step_h) * params.kernel_w + px.first + l * params.tap_step_w;
  return vec4<i32>(i32(o * out_plane()) + ey * i32(params.out_w) + ex, ey, ex, i32(o * cin * taps() + tap));
}

// dy at a column's state shifted by a tap's; zero outside the output.
fn gather_dy(state: vec4<i32>, e: vec4<i32>) -> f32 {
  let oy = state.y + e.y;
  let ox = state.z + e.z;
  if (state.w == 0 || oy < 0 || oy >= i32(params.out_h) || ox < 0 || ox >= i32(params.out_w)) { return 0.0; }
  return dy[u32(state.x + e.x)];
}

// dx = the transposed convolution of dy (bias: the transposed convolution's, per channel of dx),
// one phase per part.
@compute @workgroup_size(THREADS)
fn input_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) t: u32) {
  let tile = locate(wid, groups);
  let py = phase_rows(tile.part);
  let px = phase_cols(tile.part);
  let cols = params.batch * py.positions * px.positions;
  if (!tile.valid || tile.col0 >= cols) { return; }
  let depth = (params.out_channels / params.groups) * py.count * px.count;
  var columns: array<vec4<i32>, 4>;
  for (var q = 0u; q < slots(); q++) { columns[q] = input_grad_column(tile, py, px, cols, tile.col0 + t + q * THREADS); }
  let cin = params.rows;
  let w_base = tile.group * (params.out_channels / params.groups) * cin * taps();

  for (var k0 = 0u; k0 < depth; k0 += BK) {
    if (k0 % DECODED == 0u) {
      for (var i = t; i < DECODED; i += THREADS) { decoded[i] = decode_phase_tap(k0 + i, py, px); }
      workgroupBarrier();
    }
    for (var l = t; l < tile_rows() * BK; l += THREADS) {
      let row = tile.row0 + l % tile_rows();
      let k = k0 + l / tile_rows();
      var v = 0.0;
      if (row < params.rows && k < depth) { v = weight[w_base + u32(decoded[k % DECODED].w) + row * taps()]; }
      tile_a[l / tile_rows()][l % tile_rows()] = v;
    }
    for (var q = 0u; q < slots(); q++) {
      let column = columns[q];
      for (var d = 0u; d < BK; d++) {
        var v = 0.0;
        if (k0 + d < depth) { v = gather_dy(column, decoded[(k0 + d) % DECODED]); }
        tile_b[d][t + q * THREADS] = v;
      }
    }
    workgroupBarrier();
    multiply_tiles(t);
    workgroupBarrier();
  }

  let per_image = py.positions * px.positions;
  for (var i = 0u; i < 8u; i++) {
    let row = block_row(tile, t, i);
    if (row >= params.rows) { break; }
    let channel = tile.group * cin + row;
    var b = 0.0;
    if (HAS_BIAS) { b = bias[channel]; }
    for (var j = 0u; j < 8u; j++) {
      let c = block_col(tile, t, j);
      if (c >= cols) { break; }
      let r = c % per_image;
      let pos = (py.phase + params.stride_h * (r / px.positions)) * params.in_w + px.phase + params.stride_w * (r % px.positions);
      dx[((c / per_image) * params.in_channels + channel) * in_plane() + pos] = block_value(i, j) + b;
    }
  }
}

// weight_grad's column: weight element (c, ky, kx) as (offset of x at output position 0 of
// the split's first image, ky·dilation − pad, kx·dilation − pad, in range).
fn weight_grad_column(tile: Tile, col: u32, n0: u32) -> vec4<i32> {
  let cin = params.in_channels / params.groups;
  let tap = col % taps();
  let ky = i32((tap / params.kernel_w) * params.dilation_h) - i32(params.pad_h);
  let kx = i32((tap % params.kernel_w) * params.dilation_w) - i32(params.pad_w);
  let base = i32((n0 * params.in_channels + tile.group * cin + col / taps()) * in_plane()) + ky * i32(params.in_w) + kx;
  return vec4<i32>(base, ky, kx, select(0, 1, col < params.cols));
}

// dw for the images of one split: [split, out_channels, in_channels / groups, kernel_h, kernel_w].
@compute @workgroup_size(THREADS)
fn weight_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) t: u32) {
  let tile = locate(wid, groups);
  if (!tile.valid) { return; }
  let n0 = tile.part * params.images_per_split;
  let depth = (min(n0 + params.images_per_split, params.batch) - n0) * out_plane();
  var columns: array<vec4<i32>, 4>;
  for (var q = 0u; q < slots(); q++) { columns[q] = weight_grad_column(tile, tile.col0 + t + q * THREADS, n0); }
  let dy_base = (n0 * params.out_channels + tile.group * params.rows) * out_plane();

  for (var k0 = 0u; k0 < depth; k0 += BK) {
    if (k0 % DECODED == 0u) {
      for (var i = t; i < DECODED; i += THREADS) {
        // (n, oy, ox) as (offset in x, oy·stride, ox·stride, offset in dy).
        let k = k0 + i;
        let n = k / out_plane();
        let p = k % out_plane();
        let sy = (p / params.out_w) * params.stride_h;
        let sx = (p % params.out_w) * params.stride_w;
        decoded[i] = vec4<i32>(i32(n * params.in_channels * in_plane() + sy * params.in_w + sx), i32(sy), i32(sx),
                               i32(n * params.out_channels * out_plane() + p));
      }
      workgroupBarrier();
    }
    for (var l = t; l < tile_rows() * BK; l += THREADS) {
      let row = tile.row0 + l % tile_rows();
      let k = k0 + l / tile_rows();
      var v = 0.0;
      if (row < params.rows && k < depth) { v = dy[dy_base + u32(decoded[k % DECODED].w) + row * out_plane()]; }
      tile_a[l / tile_rows()][l % tile_rows()] = v;
    }
    for (var q = 0u; q < slots(); q++) {
      let column = columns[q];
      for (var d = 0u; d < BK; d++) {
        var v = 0.0;
        if (k0 + d < depth) { v = gather_x(column, decoded[(k0 + d) % DECODED]); }
        tile_b[d][t + q * THREADS] = v;
      }
    }
    workgroupBarrier();
    multiply_tiles(t);
    workgroupBarrier();
  }

  let split_base = tile.part * params.out_channels * params.cols;
  for (var i = 0u; i < 8u; i++) {
    let row = block_row(tile, t, i);
    if (row >= params.rows) { break; }
    for (var j = 0u; j < 8u; j++) {
      let c = block_col(tile, t, j);
      if (c >= params.cols) { break; }
      dw[split_base + (tile.group * params.rows + row) * params.cols + c] = block_value(i, j);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Direct kernels, one thread per output element, for convolutions with few channels per group
// (depthwise ones): there an implicit-GEMM tile of at least 16 rows would be mostly padding.

override WG: u32 = 256u;

fn direct_index(gid: vec3u, groups: vec3u) -> u32 { return gid.x + gid.y * groups.x * WG; }

@compute @workgroup_size(WG)
fn forward_direct(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = direct_index(gid, groups);
  if (i >= params.batch * params.out_channels * out_plane()) { return; }
  let pos = i % out_plane();
  let o = (i / out_plane()) % params.out_channels;
  let n = i / (out_plane() * params.out_channels);
  let cin = params.in_channels / params.groups;
  let group = o / (params.out_channels / params.groups);
  let y0 = i32((pos / params.out_w) * params.stride_h) - i32(params.pad_h);
  let x0 = i32((pos % params.out_w) * params.stride_w) - i32(params.pad_w);
  var s = 0.0;
  for (var c = 0u; c < cin; c++) {
    let x_base = (n * params.in_channels + group * cin + c) * in_plane();
    let w_base = (o * cin + c) * taps();
    for (var ky = 0u; ky < params.kernel_h; ky++) {
      let iy = y0 + i32(ky * params.dilation_h);
      if (iy < 0 || iy >= i32(params.in_h)) { continue; }
      for (var kx = 0u; kx < params.kernel_w; kx++) {
        let ix = x0 + i32(kx * params.dilation_w);
        if (ix < 0 || ix >= i32(params.in_w)) { continue; }
        s += x[x_base + u32(iy) * params.in_w + u32(ix)] * weight[w_base + ky * params.kernel_w + kx];
      }
    }
  }
  if (HAS_BIAS) { s += bias[o]; }
  y[i] = s;
}

// One thread per element of dx, over the taps of its phase only.
@compute @workgroup_size(WG)
fn input_grad_direct(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = direct_index(gid, groups);
  if (i >= params.batch * params.in_channels * in_plane()) { return; }
  let pos = i % in_plane();
  let channel = (i / in_plane()) % params.in_channels;
  let n = i / (in_plane() * params.in_channels);
  let cin = params.in_channels / params.groups;
  let cout = params.out_channels / params.groups;
  let group = channel / cin;
  let iy = pos / params.in_w;
  let ix = pos % params.in_w;
  let py = phase_axis(iy % params.stride_h, params.stride_h, params.pad_h, params.dilation_h, params.kernel_h, params.tap_step_h, params.in_h);
  let px = phase_axis(ix % params.stride_w, params.stride_w, params.pad_w, params.dilation_w, params.kernel_w, params.tap_step_w, params.in_w);
  let oy0 = i32(iy / params.stride_h) + py.shift;
  let ox0 = i32(ix / params.stride_w) + px.shift;
  var s = 0.0;
  for (var o = group * cout; o < (group + 1u) * cout; o++) {
    let dy_base = (n * params.out_channels + o) * out_plane();
    let w_base = (o * cin + channel % cin) * taps();
    for (var j = 0u; j < py.count; j++) {
      let oy = oy0 - i32(j) * py.out_step;
      if (oy < 0 || oy >= i32(params.out_h)) { continue; }
      let ky = py.first + j * params.tap_step_h;
      for (var l = 0u; l < px.count; l++) {
        let ox = ox0 - i32(l) * px.out_step;
        if (ox < 0 || ox >= i32(params.out_w)) { continue; }
        s += dy[dy_base + u32(oy) * params.out_w + u32(ox)] * weight[w_base + ky * params.kernel_w + px.first + l * params.tap_step_w];
      }
    }
  }
  if (HAS_BIAS) { s += bias[channel]; }
  dx[i] = s;
}

// One thread per (split, weight element), summing over the split's images and every position.
@compute @workgroup_size(WG)
fn weight_grad_direct(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = direct_index(gid, groups);
  let cin = params.in_channels / params.groups;
  let weights = params.out_channels * cin * taps();
  let splits = max(1u, (params.batch + params.images_per_split - 1u) / params.images_per_split);
  if (i >= splits * weights) { return; }
  let tap = i % taps();
  let c = (i / taps()) % cin;
  let o = (i / (taps() * cin)) % params.out_channels;
  let n0 = (i / weights) * params.images_per_split;
  let channel = (o / (params.out_channels / params.groups)) * cin + c;
  let ky = i32((tap / params.kernel_w) * params.dilation_h) - i32(params.pad_h);
  let kx = i32((tap % params.kernel_w) * params.dilation_w) - i32(params.pad_w);
  var s = 0.0;
  for (var n = n0; n < min(n0 + params.images_per_split, params.batch); n++) {
    let x_base = (n * params.in_channels + channel) * in_plane();
    let dy_base = (n * params.out_channels + o) * out_plane();
    for (var oy = 0u; oy < params.out_h; oy++) {
      let iy = i32(oy * params.stride_h) + ky;
      if (iy < 0 || iy >= i32(params.in_h)) { continue; }
      for (var ox = 0u; ox < params.out_w; ox++) {
        let ix = i32(ox * params.stride_w) + kx;
        if (ix < 0 || ix >= i32(params.in_w)) { continue; }
        s += dy[dy_base + oy * params.out_w + ox] * x[x_base + u32(iy) * params.in_w + u32(ix)];
      }
    }
  }
  dw[i] = s;
}
