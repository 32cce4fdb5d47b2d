// Nearest and bilinear resampling of NCHW tensors (torch.nn.functional.interpolate), read as
// planes of in_h × in_w. The backward passes are gathers without atomics: one thread per
// input element sums the output gradients it contributed to, with the forward's own weights.
struct Params {
  // Threads that do work: output elements (forward) or input elements (backward).
  n: u32,
  in_h: u32,
  in_w: u32,
  out_h: u32,
  out_w: u32,
  // Nearest: the integer scale factors (out = in · scale).
  scale_h: u32,
  scale_w: u32,
  // Bilinear: source distance per output step (1/scale, or (in − 1)/(out − 1) with aligned corners).
  ratio_h: f32,
  ratio_w: f32,
}

override WG: u32 = 256u;
override ALIGN_CORNERS: bool = false;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
// Backward: grad has the output's shape, dx the input's.
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

// Element i of a tensor with planes of h × w as (plane, row, column).
fn position(i: u32, h: u32, w: u32) -> vec3u {
  return vec3u(i / (h * w), (i / w) % h, i % w);
}

@compute @workgroup_size(WG)
fn nearest(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  let p = position(i, params.out_h, params.out_w);
  out[i] = x[(p.x * params.in_h + p.y / params.scale_h) * params.in_w + p.z / params.scale_w];
}

@compute @workgroup_size(WG)
fn nearest_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  let p = position(i, params.in_h, params.in_w);
  var s = 0.0;
  for (var a = 0u; a < params.scale_h; a++) {
    let row = (p.x * params.out_h + p.y * params.scale_h + a) * params.out_w + p.z * params.scale_w;
    for (var b = 0u; b < params.scale_w; b++) {
      s += grad[row + b];
    }
  }
  dx[i] = s;
}

// Where output index o reads along one axis: two neighbours and the weight of the second.
struct Source {
  i0: u32,
  i1: u32,
  lambda1: f32,
}

// PyTorch's area_pixel_compute_source_index: half-pixel centres clamped at 0, or o · ratio
// with aligned corners; the second neighbour is the first one again at the last row.
fn source(o: u32, ratio: f32, size: u32) -> Source {
  var real = ratio * f32(o);
  if (!ALIGN_CORNERS) { real = max(ratio * (f32(o) + 0.5) - 0.5, 0.0); }
  let i0 = min(u32(real), size - 1u);
  let i1 = select(i0, i0 + 1u, i0 + 1u < size);
  return Source(i0, i1, real - f32(i0));
}

@compute @workgroup_size(WG)
fn bilinear(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  let p = position(i, params.out_h, params.out_w);
  let h = source(p.y, params.ratio_h, params.in_h);
  let w = source(p.z, params.ratio_w, params.in_w);
  let top = (p.x * params.in_h + h.i0) * params.in_w;
  let bottom = (p.x * params.in_h + h.i1) * params.in_w;
  let upper = (1.0 - w.lambda1) * x[top + w.i0] + w.lambda1 * x[top + w.i1];
  let lower = (1.0 - w.lambda1) * x[bottom + w.i0] + w.lambda1 * x[bottom + w.i1];
  out[i] = (1.0 - h.lambda1) * upper + h.lambda1 * lower;
}

// The weight input index k gets from output index o along one axis.
fn weight(o: u32, k: u32, ratio: f32, size: u32) -> f32 {
  let s = source(o, ratio, size);
  return select(0.0, 1.0 - s.lambda1, s.i0 == k) + select(0.0, s.lambda1, s.i1 == k);
}

// Outputs that can read input index k along one axis. Output o reads from
// [ratio·o − 0.5, ratio·o + 0.5·ratio] (either mode), and k only from sources in [k − 1, k + 1),
// so o lies in [(k − 1)/ratio − 0.5, (k + 1.5)/ratio); one more on each side absorbs rounding.
// `weight` then decides exactly.
fn candidates(k: u32, ratio: f32, out_size: u32) -> vec2i {
  if (ratio <= 0.0) { return vec2i(0, i32(out_size) - 1); }
  let first = max(i32(floor((f32(k) - 1.0) / ratio - 0.5)) - 1, 0);
  let last = min(i32(ceil((f32(k) + 1.5) / ratio)) + 1, i32(out_size) - 1);
  return vec2i(first, last);
}

@compute @workgroup_size(WG)
fn bilinear_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  let p = position(i, params.in_h, params.in_w);
  let rows = candidates(p.y, params.ratio_h, params.out_h);
  let cols = candidates(p.z, params.ratio_w, params.out_w);
  var s = 0.0;
  for (var oh = rows.x; oh <= rows.y; oh++) {
    let wh = weight(u32(oh), p.y, params.ratio_h, params.in_h);
    if (wh == 0.0) { continue; }
    var row = 0.0;
    let base = (p.x * params.out_h + u32(oh)) * params.out_w;
    for (var ow = cols.x; ow <= cols.y; ow++) {
      row += weight(u32(ow), p.z, params.ratio_w, params.in_w) * grad[base + u32(ow)];
    }
    s += wh * row;
  }
  dx[i] = s;
}
