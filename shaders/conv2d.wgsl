// 2-D convolution (torch conv2d, NCHW, zero padding) and its gradients as implicit GEMM: each
// is a product C[rows, cols] = A[rows, depth] · B[depth, cols] per group, whose operands are
// read straight from the tensors (no im2col buffer):
//
//   forward       y  [o, (n, oy, ox)]   = Σ_(c, ky, kx)  w[o, (c, ky, kx)] · x gathered at the tap
//   input_grad    dx [c, (n, iy, ix)]   = Σ_(o, ky, kx)  w[o, c, ky, kx]   · dy where the tap lands
//   weight_grad   dw [o, (c, ky, kx)]   = Σ_(n, oy, ox)  dy[n, o, oy, ox]  · x gathered at the tap
//
// (o, c: output and input channel within the group.) input_grad is also the transposed
// convolution's forward, with its bias. A workgroup computes a (16·ROWS_PER_THREAD) x 64 tile
// of C: 16 x 16 threads, each holding ROWS_PER_THREAD x 4 sums in registers, walking depth in
// steps of BK through tiles of A and B staged in workgroup memory. workgroup_id.z enumerates
// (row tile, group, split); weight_grad splits the images into blocks summed afterwards, so
// that a long sum over the batch still spreads over many workgroups.
struct Params {
  batch: u32,
  in_channels: u32,
  in_h: u32,
  in_w: u32,
  out_channels: u32,
  out_h: u32,
  out_w: u32,
  kernel_h: u32,
  kernel_w: u32,
  stride_h: u32,
  stride_w: u32,
  pad_h: u32,
  pad_w: u32,
  dilation_h: u32,
  dilation_w: u32,
  groups: u32,
  // The product: rows x cols per group (and split), summed over depth.
  rows: u32,
  cols: u32,
  depth: u32,
  row_tiles: u32,
  col_tiles: u32,
  images_per_split: u32,
}

// Rows of C per thread: 1, 2 or 4 (tiles of 16, 32 or 64 rows), to fit small channel counts.
override ROWS_PER_THREAD: u32 = 4u;
override HAS_BIAS: bool = false;

const THREADS: u32 = 16u;
const COLS_PER_THREAD: u32 = 4u;
const TILE_COLS: u32 = 64u; // THREADS * COLS_PER_THREAD
const MAX_TILE_ROWS: u32 = 64u;
const BK: u32 = 16u;
const B_LOADS: u32 = 4u; // BK * TILE_COLS / (THREADS * THREADS)
const ROWS_PER_LOAD: u32 = 4u; // THREADS * THREADS / TILE_COLS

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> dw: array<f32>;

// depth-major tiles: tile_a[k][row] and tile_b[k][col], so the inner loop reads along rows.
var<workgroup> tile_a: array<array<f32, MAX_TILE_ROWS>, BK>;
var<workgroup> tile_b: array<array<f32, TILE_COLS>, BK>;
var<private> acc: array<array<f32, COLS_PER_THREAD>, 4>;

struct Tile {
  group: u32,
  split: u32,
  row0: u32,
  col0: u32,
  valid: bool,
}

fn locate(wid: vec3u, groups: vec3u) -> Tile {
  let col_tile = wid.x + wid.y * groups.x;
  let row_tile = wid.z % params.row_tiles;
  let rest = wid.z / params.row_tiles;
  return Tile(rest % params.groups, rest / params.groups, row_tile * THREADS * ROWS_PER_THREAD, col_tile * TILE_COLS, col_tile < params.col_tiles);
}

// Coordinates in A's tile of the ROWS_PER_THREAD elements thread t loads (consecutive threads
// take consecutive depths of one row).
fn a_row(t: u32, s: u32) -> u32 { return (t + s * THREADS * THREADS) / BK; }
fn a_depth(t: u32, s: u32) -> u32 { return (t + s * THREADS * THREADS) % BK; }
// Thread t loads column t % TILE_COLS of B's tile at depths t / TILE_COLS + ROWS_PER_LOAD·s.
fn b_depth(t: u32, s: u32) -> u32 { return t / TILE_COLS + s * ROWS_PER_LOAD; }

fn multiply_tiles(lid: vec3u) {
  for (var k = 0u; k < BK; k++) {
    var a: array<f32, 4>;
    var b: array<f32, COLS_PER_THREAD>;
    for (var i = 0u; i < ROWS_PER_THREAD; i++) { a[i] = tile_a[k][lid.y + i * THREADS]; }
    for (var j = 0u; j < COLS_PER_THREAD; j++) { b[j] = tile_b[k][lid.x + j * THREADS]; }
    for (var i = 0u; i < ROWS_PER_THREAD; i++) {
      for (var j = 0u; j < COLS_PER_THREAD; j++) {
        acc[i][j] = fma(a[i], b[j], acc[i][j]);
      }
    }
  }
}

fn inside(iy: i32, ix: i32) -> bool {
  return iy >= 0 && iy < i32(params.in_h) && ix >= 0 && ix < i32(params.in_w);
}

@compute @workgroup_size(THREADS, THREADS)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
           @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) t: u32) {
  let tile = locate(wid, groups);
  if (!tile.valid) { return; }
  let taps = params.kernel_h * params.kernel_w;
  let cin = params.in_channels / params.groups;
  let out_plane = params.out_h * params.out_w;
  let in_plane = params.in_h * params.in_w;
  // The output position (n, oy, ox) of the column this thread loads into B's tile.
  let col = tile.col0 + t % TILE_COLS;
  let col_ok = col < params.cols;
  let n = col / out_plane;
  let pos = col % out_plane;
  let y0 = i32((pos / params.out_w) * params.stride_h) - i32(params.pad_h);
  let x0 = i32((pos % params.out_w) * params.stride_w) - i32(params.pad_w);
  let x_base = (n * params.in_channels + tile.group * cin) * in_plane;
  let w_base = tile.group * params.rows * params.depth;

  for (var k0 = 0u; k0 < params.depth; k0 += BK) {
    for (var s = 0u; s < ROWS_PER_THREAD; s++) {
      let row = tile.row0 + a_row(t, s);
      let k = k0 + a_depth(t, s);
      var v = 0.0;
      if (row < params.rows && k < params.depth) { v = weight[w_base + row * params.depth + k]; }
      tile_a[a_depth(t, s)][a_row(t, s)] = v;
    }
    for (var s = 0u; s < B_LOADS; s++) {
      let k = k0 + b_depth(t, s);
      var v = 0.0;
      if (col_ok && k < params.depth) {
        let c = k / taps;
        let tap = k % taps;
        let iy = y0 + i32((tap / params.kernel_w) * params.dilation_h);
        let ix = x0 + i32((tap % params.kernel_w) * params.dilation_w);
        if (inside(iy, ix)) { v = x[x_base + c * in_plane + u32(iy) * params.in_w + u32(ix)]; }
      }
      tile_b[b_depth(t, s)][t % TILE_COLS] = v;
    }
    workgroupBarrier();
    multiply_tiles(lid);
    workgroupBarrier();
  }

  for (var j = 0u; j < COLS_PER_THREAD; j++) {
    let c = tile.col0 + lid.x + j * THREADS;
    if (c >= params.cols) { break; }
    let out_base = (c / out_plane) * params.out_channels * out_plane + c % out_plane;
    for (var i = 0u; i < ROWS_PER_THREAD; i++) {
      let row = tile.row0 + lid.y + i * THREADS;
      if (row >= params.rows) { break; }
      let o = tile.group * params.rows + row;
      var v = acc[i][j];
      if (HAS_BIAS) { v += bias[o]; }
      y[out_base + o * out_plane] = v;
    }
  }
}

// dx = the transposed convolution of dy (bias: the transposed convolution's, per channel of dx).
@compute @workgroup_size(THREADS, THREADS)
fn input_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
              @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) t: u32) {
  let tile = locate(wid, groups);
  if (!tile.valid) { return; }
  let taps = params.kernel_h * params.kernel_w;
  let cin = params.rows;
  let cout = params.out_channels / params.groups;
  let out_plane = params.out_h * params.out_w;
  let in_plane = params.in_h * params.in_w;
  // The input position (n, iy, ix) of the column this thread loads; a tap (ky, kx) reaches it
  // from the output position ((iy + pad − ky·dil) / stride, ...) when that divides exactly.
  let col = tile.col0 + t % TILE_COLS;
  let col_ok = col < params.cols;
  let n = col / in_plane;
  let pos = col % in_plane;
  let ty0 = i32(pos / params.in_w + params.pad_h);
  let tx0 = i32(pos % params.in_w + params.pad_w);
  let dy_base = (n * params.out_channels + tile.group * cout) * out_plane;
  let w_base = tile.group * cout * cin * taps;

  for (var k0 = 0u; k0 < params.depth; k0 += BK) {
    for (var s = 0u; s < ROWS_PER_THREAD; s++) {
      let row = tile.row0 + a_row(t, s);
      let k = k0 + a_depth(t, s);
      var v = 0.0;
      if (row < params.rows && k < params.depth) { v = weight[w_base + ((k / taps) * cin + row) * taps + k % taps]; }
      tile_a[a_depth(t, s)][a_row(t, s)] = v;
    }
    for (var s = 0u; s < B_LOADS; s++) {
      let k = k0 + b_depth(t, s);
      var v = 0.0;
      if (col_ok && k < params.depth) {
        let o = k / taps;
        let tap = k % taps;
        let ty = ty0 - i32((tap / params.kernel_w) * params.dilation_h);
        let tx = tx0 - i32((tap % params.kernel_w) * params.dilation_w);
        if (ty >= 0 && tx >= 0) {
          let oy = u32(ty) / params.stride_h;
          let ox = u32(tx) / params.stride_w;
          if (oy * params.stride_h == u32(ty) && ox * params.stride_w == u32(tx) && oy < params.out_h && ox < params.out_w) {
            v = dy[dy_base + o * out_plane + oy * params.out_w + ox];
          }
        }
      }
      tile_b[b_depth(t, s)][t % TILE_COLS] = v;
    }
    workgroupBarrier();
    multiply_tiles(lid);
    workgroupBarrier();
  }

  for (var j = 0u; j < COLS_PER_THREAD; j++) {
    let c = tile.col0 + lid.x + j * THREADS;
    if (c >= params.cols) { break; }
    let out_base = (c / in_plane) * params.in_channels * in_plane + c % in_plane;
    for (var i = 0u; i < ROWS_PER_THREAD; i++) {
      let row = tile.row0 + lid.y + i * THREADS;
      if (row >= params.rows) { break; }
      let channel = tile.group * cin + row;
      var v = acc[i][j];
      if (HAS_BIAS) { v += bias[channel]; }
      dx[out_base + channel * in_plane] = v;
    }
  }
}

// dw for the images of one split: [split, out_channels, in_channels / groups, kernel_h, kernel_w].
@compute @workgroup_size(THREADS, THREADS)
fn weight_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
               @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) t: u32) {
  let tile = locate(wid, groups);
  if (!tile.valid) { return; }
  let taps = params.kernel_h * params.kernel_w;
  let cin = params.in_channels / params.groups;
  let out_plane = params.out_h * params.out_w;
  let in_plane = params.in_h * params.in_w;
  let n0 = tile.split * params.images_per_split;
  let depth = (min(n0 + params.images_per_split, params.batch) - n0) * out_plane;
  // The weight element (c, ky, kx) of the column this thread loads; depth walks (n, oy, ox).
  let col = tile.col0 + t % TILE_COLS;
  let col_ok = col < params.cols;
  let tap = col % taps;
  let ky = i32((tap / params.kernel_w) * params.dilation_h) - i32(params.pad_h);
  let kx = i32((tap % params.kernel_w) * params.dilation_w) - i32(params.pad_w);
  let x_base = (n0 * params.in_channels + tile.group * cin + col / taps) * in_plane;
  let dy_base = (n0 * params.out_channels + tile.group * params.rows) * out_plane;

  for (var k0 = 0u; k0 < depth; k0 += BK) {
    for (var s = 0u; s < ROWS_PER_THREAD; s++) {
      let row = tile.row0 + a_row(t, s);
      let k = k0 + a_depth(t, s);
      var v = 0.0;
      if (row < params.rows && k < depth) {
        v = dy[dy_base + (k / out_plane) * params.out_channels * out_plane + row * out_plane + k % out_plane];
      }
      tile_a[a_depth(t, s)][a_row(t, s)] = v;
    }
    for (var s = 0u; s < B_LOADS; s++) {
      let k = k0 + b_depth(t, s);
      var v = 0.0;
      if (col_ok && k < depth) {
        let pos = k % out_plane;
        let iy = i32((pos / params.out_w) * params.stride_h) + ky;
        let ix = i32((pos % params.out_w) * params.stride_w) + kx;
        if (inside(iy, ix)) {
          v = x[x_base + (k / out_plane) * params.in_channels * in_plane + u32(iy) * params.in_w + u32(ix)];
        }
      }
      tile_b[b_depth(t, s)][t % TILE_COLS] = v;
    }
    workgroupBarrier();
    multiply_tiles(lid);
    workgroupBarrier();
  }

  let split_base = tile.split * params.out_channels * params.cols;
  for (var j = 0u; j < COLS_PER_THREAD; j++) {
    let c = tile.col0 + lid.x + j * THREADS;
    if (c >= params.cols) { break; }
    for (var i = 0u; i < ROWS_PER_THREAD; i++) {
      let row = tile.row0 + lid.y + i * THREADS;
      if (row >= params.rows) { break; }
      dw[split_base + (tile.group * params.rows + row) * params.cols + c] = acc[i][j];
    }
  }
}

// ---- MEASUREMENT ONLY (temporary) ----
override WG: u32 = 256u;
@group(0) @binding(8) var<storage, read_write> cols_out: array<f32>;

@compute @workgroup_size(WG)
fn forward_direct(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  let out_plane = params.out_h * params.out_w;
  if (i >= params.batch * params.out_channels * out_plane) { return; }
  let pos = i % out_plane;
  let o = (i / out_plane) % params.out_channels;
  let n = i / (out_plane * params.out_channels);
  let cin = params.in_channels / params.groups;
  let g = o / (params.out_channels / params.groups);
  let in_plane = params.in_h * params.in_w;
  let y0 = i32((pos / params.out_w) * params.stride_h) - i32(params.pad_h);
  let x0 = i32((pos % params.out_w) * params.stride_w) - i32(params.pad_w);
  let x_base = (n * params.in_channels + g * cin) * in_plane;
  let taps = params.kernel_h * params.kernel_w;
  var s = 0.0;
  for (var c = 0u; c < cin; c++) {
    for (var ky = 0u; ky < params.kernel_h; ky++) {
      let iy = y0 + i32(ky * params.dilation_h);
      if (iy < 0 || iy >= i32(params.in_h)) { continue; }
      for (var kx = 0u; kx < params.kernel_w; kx++) {
        let ix = x0 + i32(kx * params.dilation_w);
        if (ix < 0 || ix >= i32(params.in_w)) { continue; }
        s = fma(x[x_base + c * in_plane + u32(iy) * params.in_w + u32(ix)], weight[((o * cin + c) * params.kernel_h + ky) * params.kernel_w + kx], s);
      }
    }
  }
  if (HAS_BIAS) { s += bias[o]; }
  y[i] = s;
}

// cols_out[g][k][col] = x gathered, k = (c, ky, kx), col = (n, oy, ox)
@compute @workgroup_size(WG)
fn im2col(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.groups * params.depth * params.cols) { return; }
  let col = i % params.cols;
  let k = (i / params.cols) % params.depth;
  let g = i / (params.cols * params.depth);
  let taps = params.kernel_h * params.kernel_w;
  let cin = params.in_channels / params.groups;
  let out_plane = params.out_h * params.out_w;
  let in_plane = params.in_h * params.in_w;
  let n = col / out_plane;
  let pos = col % out_plane;
  let c = k / taps;
  let tap = k % taps;
  let iy = i32((pos / params.out_w) * params.stride_h) - i32(params.pad_h) + i32((tap / params.kernel_w) * params.dilation_h);
  let ix = i32((pos % params.out_w) * params.stride_w) - i32(params.pad_w) + i32((tap % params.kernel_w) * params.dilation_w);
  var v = 0.0;
  if (inside(iy, ix)) { v = x[(n * params.in_channels + g * cin + c) * in_plane + u32(iy) * params.in_w + u32(ix)]; }
  cols_out[i] = v;
}

override ROW_THREADS: u32 = 16u;
const V_BK: u32 = 8u;
var<workgroup> va: array<array<vec4<f32>, 16>, V_BK>;
var<workgroup> vb: array<array<vec4<f32>, 64>, V_BK>;

fn store_row(row: u32, col0: u32, g: u32, v: vec4<f32>) {
  if (row >= params.rows) { return; }
  let out_plane = params.out_h * params.out_w;
  let o = g * params.rows + row;
  var b = 0.0;
  if (HAS_BIAS) { b = bias[o]; }
  for (var j = 0u; j < 4u; j++) {
    let c = col0 + j;
    if (c >= params.cols) { return; }
    y[(c / out_plane) * params.out_channels * out_plane + c % out_plane + o * out_plane] = v[j] + b;
  }
}

@compute @workgroup_size(256)
fn forward_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) t: u32) {
  let col_threads = 256u / ROW_THREADS;
  let tn = 4u * col_threads;
  let tm = 4u * ROW_THREADS;
  let col_tile = wid.x + wid.y * groups.x;
  if (col_tile >= params.col_tiles) { return; }
  let row0 = (wid.z % params.row_tiles) * tm;
  let g = (wid.z / params.row_tiles) % params.groups;
  let col0 = col_tile * tn;
  let ty = t / col_threads;
  let tx = t % col_threads;
  let taps = params.kernel_h * params.kernel_w;
  let cin = params.in_channels / params.groups;
  let out_plane = params.out_h * params.out_w;
  let in_plane = params.in_h * params.in_w;
  let lc = t % tn;
  let ld0 = t / tn;
  let ld_step = 256u / tn;
  let col = col0 + lc;
  let col_ok = col < params.cols;
  let n = col / out_plane;
  let pos = col % out_plane;
  let y0 = i32((pos / params.out_w) * params.stride_h) - i32(params.pad_h);
  let x0 = i32((pos % params.out_w) * params.stride_w) - i32(params.pad_w);
  let x_base = (n * params.in_channels + g * cin) * in_plane;
  let w_base = g * params.rows * params.depth;
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  var acc2 = vec4<f32>();
  var acc3 = vec4<f32>();
  for (var k0 = 0u; k0 < params.depth; k0 += V_BK) {
    for (var l = t; l < tm * V_BK; l += 256u) {
      let row = row0 + l / V_BK;
      let k = k0 + l % V_BK;
      var v = 0.0;
      if (row < params.rows && k < params.depth) { v = weight[w_base + row * params.depth + k]; }
      va[l % V_BK][(l / V_BK) / 4u][(l / V_BK) % 4u] = v;
    }
    for (var d = ld0; d < V_BK; d += ld_step) {
      let k = k0 + d;
      var v = 0.0;
      if (col_ok && k < params.depth) {
        let c = k / taps;
        let tap = k % taps;
        let iy = y0 + i32((tap / params.kernel_w) * params.dilation_h);
        let ix = x0 + i32((tap % params.kernel_w) * params.dilation_w);
        if (inside(iy, ix)) { v = x[x_base + c * in_plane + u32(iy) * params.in_w + u32(ix)]; }
      }
      vb[d][lc / 4u][lc % 4u] = v;
    }
    workgroupBarrier();
    for (var k = 0u; k < V_BK; k++) {
      let a = va[k][ty];
      let b = vb[k][tx];
      acc0 = fma(vec4<f32>(a.x), b, acc0);
      acc1 = fma(vec4<f32>(a.y), b, acc1);
      acc2 = fma(vec4<f32>(a.z), b, acc2);
      acc3 = fma(vec4<f32>(a.w), b, acc3);
    }
    workgroupBarrier();
  }
  let r = row0 + 4u * ty;
  let c0 = col0 + 4u * tx;
  store_row(r, c0, g, acc0);
  store_row(r + 1u, c0, g, acc1);
  store_row(r + 2u, c0, g, acc2);
  store_row(r + 3u, c0, g, acc3);
}
