// 2-D convolution and its gradients, the products of shaders/conv2d.wgsl (read its notes: the
// three products, parts, phases), for devices where shared memory is slow and subgroups are
// at hand: software adapters such as SwiftShader, which run the invocations of a workgroup as
// SIMD lanes on a CPU core. There every read of workgroup or storage memory costs about as
// much as a gather, one lane at a time, whatever its address; values in registers and
// subgroup broadcasts are cheap.
//
// No workgroup memory, no barriers. Each invocation accumulates a block of 4·QUADS rows by 4
// columns of the product in registers, over the whole depth. It gathers its columns' operand
// (B) itself, 4 values per depth index. The rows' operand (A) is the same for every invocation,
// so the four lanes of a quad share its loading: lane l loads rows 4q + l and subgroupBroadcast
// hands every lane all four. Per depth index an invocation makes QUADS + 4 loads for
// 16·QUADS products, where the tiled kernel makes 16 shared-memory reads for 64.
// The depth index's coordinates advance by additions (a `Walk`), not divisions, and the loop
// takes UNROLL depth indices per turn (the rest one by one): SwiftShader copies every value a
// loop carries (here the 16·QUADS accumulators) at each turn.
//
// Broadcasting from lanes 0-3 is sound for any subgroup size (WebGPU's are at least 4): every
// invocation of a workgroup runs the same depth loop and needs the same rows.
enable subgroups;

// #include "lib/conv2d_common.wgsl"

// Rows of a tile: 4·QUADS (QUADS from 1 to 8).
override QUADS: u32 = 8u;
// Invocations of a workgroup (a multiple of 4); a tile has 4·THREADS columns.
override THREADS: u32 = 64u;
override HAS_BIAS: bool = false;

// Depth indices per turn of the loop.
const UNROLL: u32 = 4u;

// The invocation's block: rows 4q to 4q + 3 of the tile in mq, whose matrix column j is block
// column j.
var<private> m0: mat4x4<f32>;
var<private> m1: mat4x4<f32>;
var<private> m2: mat4x4<f32>;
var<private> m3: mat4x4<f32>;
var<private> m4: mat4x4<f32>;
var<private> m5: mat4x4<f32>;
var<private> m6: mat4x4<f32>;
var<private> m7: mat4x4<f32>;

fn outer(a: vec4<f32>, b: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(a * b.x, a * b.y, a * b.z, a * b.w);
}

// The four values lanes 0-3 hold, in every lane.
fn spread(v: f32) -> vec4<f32> {
  return vec4<f32>(subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u));
}

// a[q]: this lane's value of row 4q + (lane mod 4) at one depth index; b: the block's columns.
fn accumulate(a: array<f32, 8>, b: vec4<f32>) {
  m0 += outer(spread(a[0]), b);
  if (QUADS > 1u) { m1 += outer(spread(a[1]), b); }
  if (QUADS > 2u) { m2 += outer(spread(a[2]), b); }
  if (QUADS > 3u) { m3 += outer(spread(a[3]), b); }
  if (QUADS > 4u) { m4 += outer(spread(a[4]), b); }
  if (QUADS > 5u) { m5 += outer(spread(a[5]), b); }
  if (QUADS > 6u) { m6 += outer(spread(a[6]), b); }
  if (QUADS > 7u) { m7 += outer(spread(a[7]), b); }
}

fn quad_block(q: u32) -> mat4x4<f32> {
  switch q {
    case 0u: { return m0; }
    case 1u: { return m1; }
    case 2u: { return m2; }
    case 3u: { return m3; }
    case 4u: { return m4; }
    case 5u: { return m5; }
    case 6u: { return m6; }
    default: { return m7; }
  }
}

// Where a workgroup's tile lies (the same for all its invocations).
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
  return Tile(rest % params.groups, rest / params.groups, (wid.z % params.row_tiles) * 4u * QUADS,
              col_tile * 4u * THREADS, col_tile < params.col_tiles);
}

// A walk over depth indices as three nested counters, innermost first. e is what the current
// index adds to a column's state and a row's offset: (offset in B's tensor, row shift, column
// shift, offset in A's tensor). Stepping the innermost counter adds s0; wrapping it adds s1
// (which undoes its n0 − 1 steps); wrapping the middle one too adds s2.
struct Walk {
  e: vec4<i32>,
  i0: u32,
  i1: u32,
  n0: u32,
  n1: u32,
  s0: vec4<i32>,
  s1: vec4<i32>,
  s2: vec4<i32>,
}

fn advance(w: ptr<function, Walk>) {
  (*w).i0 += 1u;
  let wrap0 = (*w).i0 == (*w).n0;
  (*w).i0 = select((*w).i0, 0u, wrap0);
  (*w).i1 += select(0u, 1u, wrap0);
  let wrap1 = (*w).i1 == (*w).n1;
  (*w).i1 = select((*w).i1, 0u, wrap1);
  (*w).e += select((*w).s0, select((*w).s1, (*w).s2, wrap1), wrap0);
}

// The invocation's 4 columns: for each, the offset of its B value at walk state 0, the row and
// column of that value in its image (shifted by the walk, checked against the image's size),
// and whether the column exists.
struct Columns {
  base: vec4<i32>,
  y: vec4<i32>,
  x: vec4<i32>,
  valid: vec4<bool>,
}

// Which of the columns' B values at walk state e lie inside an image of h x w (zero padding
// outside).
fn inside(c: Columns, e: vec4<i32>, h: u32, w: u32) -> vec4<bool> {
  let yy = c.y + vec4<i32>(e.y);
  let xx = c.x + vec4<i32>(e.z);
  let zero = vec4<i32>(0);
  return c.valid & (yy >= zero) & (yy < vec4<i32>(i32(h))) & (xx >= zero) & (xx < vec4<i32>(i32(w)));
}

// B from x (forward and weight_grad) or from dy (input_grad). Every lane loads (a load that
// differs by lane costs the same whether or not it is skipped); select drops what lies outside.
fn x_columns(c: Columns, e: vec4<i32>) -> vec4<f32> {
  let i = max(c.base + vec4<i32>(e.x), vec4<i32>(0));
  return select(vec4<f32>(0.0), vec4<f32>(x[i.x], x[i.y], x[i.z], x[i.w]), inside(c, e, params.in_h, params.in_w));
}

fn dy_columns(c: Columns, e: vec4<i32>) -> vec4<f32> {
  let i = max(c.base + vec4<i32>(e.x), vec4<i32>(0));
  return select(vec4<f32>(0.0), vec4<f32>(dy[i.x], dy[i.y], dy[i.z], dy[i.w]), inside(c, e, params.out_h, params.out_w));
}

// Where this lane's rows of A lie: row 4q + lane (lane < 4) of the tile is at
// base + q·quad_step + e.w; `row` is the lane's row in quad 0, counted in the whole product.
struct Rows {
  base: i32,
  quad_step: i32,
  row: u32,
}

fn rows_of(tile: Tile, lane: u32, base: u32, row_step: u32) -> Rows {
  let row = tile.row0 + (lane & 3u);
  return Rows(i32(base + row * row_step), i32(4u * row_step), row);
}

// Quad q's value of A from the weight or from dy; zero for rows past the product's.
fn weight_row(r: Rows, q: u32, ew: i32) -> f32 {
  if (q >= QUADS) { return 0.0; }
  return select(0.0, weight[max(r.base + i32(q) * r.quad_step + ew, 0)], r.row + 4u * q < params.rows);
}

fn dy_row(r: Rows, q: u32, ew: i32) -> f32 {
  if (q >= QUADS) { return 0.0; }
  return select(0.0, dy[max(r.base + i32(q) * r.quad_step + ew, 0)], r.row + 4u * q < params.rows);
}

fn weight_rows(r: Rows, ew: i32) -> array<f32, 8> {
  return array<f32, 8>(weight_row(r, 0u, ew), weight_row(r, 1u, ew), weight_row(r, 2u, ew), weight_row(r, 3u, ew),
                       weight_row(r, 4u, ew), weight_row(r, 5u, ew), weight_row(r, 6u, ew), weight_row(r, 7u, ew));
}

fn dy_rows(r: Rows, ew: i32) -> array<f32, 8> {
  return array<f32, 8>(dy_row(r, 0u, ew), dy_row(r, 1u, ew), dy_row(r, 2u, ew), dy_row(r, 3u, ew),
                       dy_row(r, 4u, ew), dy_row(r, 5u, ew), dy_row(r, 6u, ew), dy_row(r, 7u, ew));
}

// One depth index of each product, then the walk's next.
fn forward_step(w: ptr<function, Walk>, c: Columns, r: Rows) {
  accumulate(weight_rows(r, (*w).e.w), x_columns(c, (*w).e));
  advance(w);
}

fn input_grad_step(w: ptr<function, Walk>, c: Columns, r: Rows) {
  accumulate(weight_rows(r, (*w).e.w), dy_columns(c, (*w).e));
  advance(w);
}

fn weight_grad_step(w: ptr<function, Walk>, c: Columns, r: Rows) {
  accumulate(dy_rows(r, (*w).e.w), x_columns(c, (*w).e));
  advance(w);
}

// y = conv2d(x, w) + bias. Columns: output positions (n, oy, ox); depth: (c, ky, kx).
@compute @workgroup_size(THREADS)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) t: u32,
           @builtin(subgroup_invocation_id) lane: u32) {
  let tile = locate(wid, groups);
  if (!tile.valid) { return; }
  let cin = params.in_channels / params.groups;
  var c: Columns;
  var out_at: vec4<u32>;
  for (var j = 0u; j < 4u; j++) {
    let col = tile.col0 + 4u * t + j;
    let k = min(col, params.cols - 1u);
    let pos = k % out_plane();
    let y0 = i32((pos / params.out_w) * params.stride_h) - i32(params.pad_h);
    let x0 = i32((pos % params.out_w) * params.stride_w) - i32(params.pad_w);
    c.base[j] = i32(((k / out_plane()) * params.in_channels + tile.group * cin) * in_plane()) + y0 * i32(params.in_w) + x0;
    c.y[j] = y0;
    c.x[j] = x0;
    c.valid[j] = col < params.cols;
    out_at[j] = (k / out_plane()) * params.out_channels * out_plane() + pos;
  }
  let r = rows_of(tile, lane, tile.group * params.rows * params.depth, params.depth);
  // Depth (c, ky, kx): kx steps dilation columns, ky dilation rows, c a plane; A walks one by one.
  let d = vec2<i32>(i32(params.dilation_h), i32(params.dilation_w));
  let back = vec2<i32>(i32(params.kernel_h) - 1, i32(params.kernel_w) - 1) * d;
  let w_in = i32(params.in_w);
  var walk = Walk(vec4<i32>(0), 0u, 0u, params.kernel_w, params.kernel_h, vec4<i32>(d.y, 0, d.y, 1),
                  vec4<i32>(d.x * w_in - back.y, d.x, -back.y, 1),
                  vec4<i32>(i32(in_plane()) - back.x * w_in - back.y, -back.x, -back.y, 1));
  var k = 0u;
  for (; k + UNROLL <= params.depth; k += UNROLL) {
    forward_step(&walk, c, r);
    forward_step(&walk, c, r);
    forward_step(&walk, c, r);
    forward_step(&walk, c, r);
  }
  for (; k < params.depth; k++) { forward_step(&walk, c, r); }

  for (var q = 0u; q < QUADS; q++) {
    let m = quad_block(q);
    for (var i = 0u; i < 4u; i++) {
      let row = tile.row0 + 4u * q + i;
      if (row >= params.rows) { break; }
      let o = tile.group * params.rows + row;
      var b = 0.0;
      if (HAS_BIAS) { b = bias[o]; }
      for (var j = 0u; j < 4u; j++) {
        if (!c.valid[j]) { break; }
        y[out_at[j] + o * out_plane()] = m[j][i] + b;
      }
    }
  }
}

// dx = the transposed convolution of dy (+ bias per channel of dx), one phase per part.
// Columns: the phase's input positions (n, i, k); depth: (o, j, l), the phase's taps.
@compute @workgroup_size(THREADS)
fn input_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) t: u32,
              @builtin(subgroup_invocation_id) lane: u32) {
  let tile = locate(wid, groups);
  let py = phase_rows(tile.part);
  let px = phase_cols(tile.part);
  let per_image = py.positions * px.positions;
  let cols = params.batch * per_image;
  if (!tile.valid || tile.col0 >= cols) { return; }
  let cin = params.rows;
  let cout = params.out_channels / params.groups;
  var c: Columns;
  var out_at: vec4<u32>;
  for (var j = 0u; j < 4u; j++) {
    let col = tile.col0 + 4u * t + j;
    let k = min(col, cols - 1u);
    let n = k / per_image;
    let i = (k % per_image) / px.positions;
    let l = k % px.positions;
    let oy = i32(i) + py.shift;
    let ox = i32(l) + px.shift;
    c.base[j] = i32((n * params.out_channels + tile.group * cout) * out_plane()) + oy * i32(params.out_w) + ox;
    c.y[j] = oy;
    c.x[j] = ox;
    c.valid[j] = col < cols;
    out_at[j] = n * params.in_channels * in_plane() + (py.phase + params.stride_h * i) * params.in_w + px.phase + params.stride_w * l;
  }
  let r = rows_of(tile, lane, tile.group * cout * cin * taps(), taps());
  // Depth (o, j, l): l steps px.out_step output columns back and tap_step_w kernel columns on,
  // j likewise in rows, o an output plane and a weight's worth of input channels.
  let cy = i32(py.count) - 1;
  let cx = i32(px.count) - 1;
  let so = vec2<i32>(py.out_step, px.out_step);
  let st = vec2<i32>(i32(params.tap_step_h) * i32(params.kernel_w), i32(params.tap_step_w));
  let w_out = i32(params.out_w);
  var walk = Walk(vec4<i32>(0, 0, 0, i32(py.first * params.kernel_w + px.first)), 0u, 0u, px.count, py.count,
                  vec4<i32>(-so.y, 0, -so.y, st.y),
                  vec4<i32>(-so.x * w_out + cx * so.y, -so.x, cx * so.y, st.x - cx * st.y),
                  vec4<i32>(i32(out_plane()) + cy * so.x * w_out + cx * so.y, cy * so.x, cx * so.y, i32(cin * taps()) - cy * st.x - cx * st.y));
  let depth = cout * py.count * px.count;
  var k = 0u;
  for (; k + UNROLL <= depth; k += UNROLL) {
    input_grad_step(&walk, c, r);
    input_grad_step(&walk, c, r);
    input_grad_step(&walk, c, r);
    input_grad_step(&walk, c, r);
  }
  for (; k < depth; k++) { input_grad_step(&walk, c, r); }

  for (var q = 0u; q < QUADS; q++) {
    let m = quad_block(q);
    for (var i = 0u; i < 4u; i++) {
      let row = tile.row0 + 4u * q + i;
      if (row >= params.rows) { break; }
      let channel = tile.group * cin + row;
      var b = 0.0;
      if (HAS_BIAS) { b = bias[channel]; }
      for (var j = 0u; j < 4u; j++) {
        if (!c.valid[j]) { break; }
        dx[out_at[j] + channel * in_plane()] = m[j][i] + b;
      }
    }
  }
}

// dw for the images of one split: [split, out_channels, in_channels / groups, kernel_h, kernel_w].
// Columns: weight elements (c, ky, kx); depth: the split's (n, oy, ox).
@compute @workgroup_size(THREADS)
fn weight_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) t: u32,
               @builtin(subgroup_invocation_id) lane: u32) {
  let tile = locate(wid, groups);
  if (!tile.valid) { return; }
  let n0 = tile.part * params.images_per_split;
  let depth = (min(n0 + params.images_per_split, params.batch) - n0) * out_plane();
  let cin = params.in_channels / params.groups;
  var c: Columns;
  for (var j = 0u; j < 4u; j++) {
    let col = tile.col0 + 4u * t + j;
    let k = min(col, params.cols - 1u);
    let tap = k % taps();
    let ky = i32((tap / params.kernel_w) * params.dilation_h) - i32(params.pad_h);
    let kx = i32((tap % params.kernel_w) * params.dilation_w) - i32(params.pad_w);
    c.base[j] = i32((n0 * params.in_channels + tile.group * cin + k / taps()) * in_plane()) + ky * i32(params.in_w) + kx;
    c.y[j] = ky;
    c.x[j] = kx;
    c.valid[j] = col < params.cols;
  }
  let r = rows_of(tile, lane, (n0 * params.out_channels + tile.group * params.rows) * out_plane(), out_plane());
  // Depth (n, oy, ox): ox steps stride columns of x and one element of dy, oy stride rows,
  // n an image of each.
  let s = vec2<i32>(i32(params.stride_h), i32(params.stride_w));
  let back = vec2<i32>(i32(params.out_h) - 1, i32(params.out_w) - 1) * s;
  let w_in = i32(params.in_w);
  var walk = Walk(vec4<i32>(0), 0u, 0u, params.out_w, params.out_h, vec4<i32>(s.y, 0, s.y, 1),
                  vec4<i32>(s.x * w_in - back.y, s.x, -back.y, 1),
                  vec4<i32>(i32(params.in_channels * in_plane()) - back.x * w_in - back.y, -back.x, -back.y,
                            i32((params.out_channels - 1u) * out_plane() + 1u)));
  var k = 0u;
  for (; k + UNROLL <= depth; k += UNROLL) {
    weight_grad_step(&walk, c, r);
    weight_grad_step(&walk, c, r);
    weight_grad_step(&walk, c, r);
    weight_grad_step(&walk, c, r);
  }
  for (; k < depth; k++) { weight_grad_step(&walk, c, r); }

  let split_base = tile.part * params.out_channels * params.cols;
  for (var q = 0u; q < QUADS; q++) {
    let m = quad_block(q);
    for (var i = 0u; i < 4u; i++) {
      let row = tile.row0 + 4u * q + i;
      if (row >= params.rows) { break; }
      let o = tile.group * params.rows + row;
      for (var j = 0u; j < 4u; j++) {
        if (!c.valid[j]) { break; }
        dw[split_base + o * params.cols + tile.col0 + 4u * t + j] = m[j][i];
      }
    }
  }
}
