// Softmax and log-softmax along one axis, and their backward passes. The tensor is read as
// [outer, len, inner] (the axis in the middle): row r starts at (r / inner) * len * inner +
// r % inner and steps by inner. One workgroup per row; its threads stride over the row and
// combine their partial maxima and sums with a tree reduction in workgroup memory.
struct Params {
  rows: u32,
  len: u32,
  inner: u32,
}

// Threads per workgroup: a power of two (the tree reduction halves it).
override WG: u32 = 256u;
// Forward: write log-softmax instead of softmax.
override LOG: bool = false;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
// Backward: y is the forward output (softmax or log-softmax), g the gradient of y.
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;

var<workgroup> partial: array<f32, WG>;

fn row_start(row: u32) -> u32 {
  return (row / params.inner) * params.len * params.inner + row % params.inner;
}

// Rows beyond 65535 fold into a 2-D grid of workgroups.
fn row_of(wid: vec3u, groups: vec3u) -> u32 {
  return wid.x + wid.y * groups.x;
}

// Both reductions leave the result in partial[0]; the caller reads it after this returns.
fn reduce_max(t: u32, v: f32) {
  partial[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (t < s) { partial[t] = max(partial[t], partial[t + s]); }
    workgroupBarrier();
  }
}

fn reduce_sum(t: u32, v: f32) {
  partial[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (t < s) { partial[t] += partial[t + s]; }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) t: u32) {
  let row = row_of(wid, groups);
  if (row >= params.rows) { return; }
  let start = row_start(row);
  let stride = params.inner;

  // The first element seeds the maximum, so no -inf constant is needed.
  var m = x[start];
  for (var j = t; j < params.len; j += WG) { m = max(m, x[start + j * stride]); }
  reduce_max(t, m);
  let row_max = partial[0];
  workgroupBarrier();

  var s = 0.0;
  for (var j = t; j < params.len; j += WG) { s += exp(x[start + j * stride] - row_max); }
  reduce_sum(t, s);
  let total = partial[0];

  let log_total = log(total);
  for (var j = t; j < params.len; j += WG) {
    let shifted = x[start + j * stride] - row_max;
    if (LOG) {
      out[start + j * stride] = shifted - log_total;
    } else {
      out[start + j * stride] = exp(shifted) / total;
    }
  }
}

// dx = y ⊙ (g − Σ g ⊙ y)
@compute @workgroup_size(WG)
fn softmax_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
                    @builtin(local_invocation_index) t: u32) {
  let row = row_of(wid, groups);
  if (row >= params.rows) { return; }
  let start = row_start(row);
  let stride = params.inner;
  var s = 0.0;
  for (var j = t; j < params.len; j += WG) {
    let i = start + j * stride;
    s += g[i] * y[i];
  }
  reduce_sum(t, s);
  let dot = partial[0];
  for (var j = t; j < params.len; j += WG) {
    let i = start + j * stride;
    dx[i] = y[i] * (g[i] - dot);
  }
}

// dx = g − softmax ⊙ Σ g, with softmax = exp(y)
@compute @workgroup_size(WG)
fn log_softmax_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
                        @builtin(local_invocation_index) t: u32) {
  let row = row_of(wid, groups);
  if (row >= params.rows) { return; }
  let start = row_start(row);
  let stride = params.inner;
  var s = 0.0;
  for (var j = t; j < params.len; j += WG) { s += g[start + j * stride]; }
  reduce_sum(t, s);
  let total = partial[0];
  for (var j = t; j < params.len; j += WG) {
    let i = start + j * stride;
    dx[i] = g[i] - exp(y[i]) * total;
  }
}
