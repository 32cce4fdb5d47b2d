// Normalisation: batch, group, layer and instance norm and batch renormalisation, forward and
// exact backward, with one design for all of them.
//
// Which numbers are averaged together is all that tells the norms apart. Element i of the
// input (flat, row-major) belongs to statistics group (i / group_div) % groups and uses
// weight/bias entry (i / affine_div) % affine_count: batch norm groups per channel, group norm
// per (sample, group of channels), layer norm per sample; the weight is per channel, or per
// position of the normalised shape for layer norm.
//
// `stats` holds one row per quantity, `groups` wide: mean, biased variance, and for batch
// renormalisation r and d. Kernels take 1/sqrt(var + eps) from it themselves, so evaluation
// mode passes the running mean and variance in the same rows.
//
// Reductions (statistics, backward sums) have the geometry of reduce.wgsl: output o starts at
// the offset of its kept coordinates and its elements are walked row by row along the
// innermost reduced dim (`Cursor` in lib/strided_offsets.wgsl).
//
// Entry points:
//   stats_main, stats_serial,          mean and biased variance per group, shifted sums per thread
//   stats_merge                        and Chan merges in the tree; `stats_main` with PARTIAL
//                                      writes chunk states for `stats_merge` (a second level).
//   apply                              y = relu?(γ·(x̂·r + d) + β), x̂ = (x − mean)/sqrt(var + eps)
//   grad_sums, grad_sums_serial        Σ dy·w and Σ dy·w·x̂ per output (group or weight entry)
//   grad_input                         dx from dy and the group sums
//   update_running, renorm_factors     running statistics in place; batch renorm's r and d
struct Params {
  // Elements of the input.
  n: u32,
  // Outputs of a reduction and how each is split.
  n_out: u32,
  chunks: u32,
  chunk_len: u32,
  reduced: u32,
  kept_rank: u32,
  reduced_rank: u32,
  groups: u32,
  group_div: u32,
  affine_count: u32,
  affine_div: u32,
  eps: f32,
  // 1 / elements per group.
  inv_m: f32,
  kept_shape: array<vec4<u32>, 2>,
  kept_strides: array<vec4<u32>, 2>,
  reduced_shape: array<vec4<u32>, 2>,
  reduced_strides: array<vec4<u32>, 2>,
}

struct MergeParams {
  n_out: u32,
  chunks: u32,
  reduced: u32,
}

struct RunningParams {
  channels: u32,
  momentum: f32,
  // n / (n − 1): the running variance is the unbiased one.
  unbias: f32,
}

struct FactorParams {
  channels: u32,
  eps: f32,
  rmin: f32,
  rmax: f32,
  dmax: f32,
}

override WG: u32 = 256u;
// stats, grad_sums: write chunk states instead of finished values.
override PARTIAL: bool = false;
// grad_input: the statistics are the input's own (training), so the Jacobian is dense.
override BATCH_STATS: bool = true;
override HAS_WEIGHT: bool = false;
override HAS_BIAS: bool = false;
// stats has rows r and d: x̂ becomes x̂·r + d.
override RENORM: bool = false;
override RELU: bool = false;
// grad_sums: sum dy·γ·r instead of dy (the group sums of group and layer norm, where γ varies
// within a group); grad_input: the sums are of that kind.
override WEIGHTED: bool = false;
// apply, grad_input: elements per thread. 4 where runs of 4 consecutive elements share their
// group and weight entry (group_div and affine_div multiples of 4), so a thread reads the
// group's statistics and the weight once for four values.
override VEC: u32 = 1u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read> y: array<f32>;
@group(0) @binding(7) var<storage, read> sums: array<f32>;
@group(0) @binding(8) var<storage, read_write> out: array<f32>;

@group(0) @binding(0) var<uniform> merge_params: MergeParams;
@group(0) @binding(1) var<storage, read> partials: array<f32>;

@group(0) @binding(0) var<uniform> running_params: RunningParams;
@group(0) @binding(0) var<uniform> factor_params: FactorParams;
@group(0) @binding(3) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> running_var: array<f32>;

// count, mean, M2 (statistics); sums (backward: a = Σ dy·w, b = Σ dy·w·x̂).
struct State {
  n: f32,
  a: f32,
  b: f32,
}

var<workgroup> tree_n: array<f32, WG>;
var<workgroup> tree_a: array<f32, WG>;
var<workgroup> tree_b: array<f32, WG>;

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WG;
}

// #include "lib/strided_offsets.wgsl"
// #include "lib/float_bits.wgsl"

// ---- statistics ----

// A thread accumulates the count and the sums of its shifted values u = x − k and of u²
// (two multiply-adds per value, no division); `settle` turns them into (count, mean, M2)
// before the Chan merges. The shift keeps u near zero, so Σu² − (Σu)²/n loses little.
fn absorb(s: State, u: f32) -> State {
  return State(s.n + 1.0, s.a + u, s.b + u * u);
}

fn settle(s: State) -> State {
  if (s.n == 0.0) { return s; }
  let mean = s.a / s.n;
  // Rounding can leave a tiny negative M2; a NaN stays NaN.
  return State(s.n, mean, zero_if_negative(s.b - s.a * mean));
}

// Chan et al.: merges two (count, mean, M2) states.
fn combine(p: State, q: State) -> State {
  if (q.n == 0.0) { return p; }
  if (p.n == 0.0) { return q; }
  let n = p.n + q.n;
  let d = q.a - p.a;
  let w = q.n / n;
  return State(n, p.a + d * w, p.b + q.b + d * d * p.n * w);
}

// Merges the WG states in shared memory into tree_*[0]. WG is a power of two.
fn merge_tree(t: u32, s: State) {
  tree_n[t] = s.n;
  tree_a[t] = s.a;
  tree_b[t] = s.b;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (t < stride) {
      let merged = combine(State(tree_n[t], tree_a[t], tree_b[t]), State(tree_n[t + stride], tree_a[t + stride], tree_b[t + stride]));
      tree_n[t] = merged.n;
      tree_a[t] = merged.a;
      tree_b[t] = merged.b;
    }
    workgroupBarrier();
  }
}

// What every value of the group at `base` is shifted by: its first value (0 if that is not
// finite), so that the running means stay small and a large mean costs no precision in M2.
fn shift(base: u32) -> f32 {
  if (params.reduced == 0u) { return 0.0; }
  let v = x[base];
  return select(v, 0.0, (bitcast<u32>(v) & 0x7fffffffu) >= 0x7f800000u);
}

// Mean and biased variance (M2 over the exact element count) into rows 0 and 1.
fn write_stats(o: u32, n_out: u32, s: State, k: f32, reduced: u32) {
  out[o] = s.a + k;
  out[n_out + o] = s.b / f32(reduced);
}

@compute @workgroup_size(WG)
fn stats_main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let g = wid.x + wid.y * groups.x;
  if (g >= params.n_out * params.chunks) { return; }
  let o = g / params.chunks;
  let c = g % params.chunks;
  let base = kept_offset(o);
  let start = c * params.chunk_len;
  let end = min(params.reduced, start + params.chunk_len);
  let k = shift(base);
  var s = State(0.0, 0.0, 0.0);
  for (var c = cursor_at(start + t); c.r < end; c = cursor_advance(c, WG)) {
    s = absorb(s, x[base + cursor_offset(c)] - k);
  }
  merge_tree(t, settle(s));
  if (t != 0u) { return; }
  let total = State(tree_n[0], tree_a[0], tree_b[0]);
  if (!PARTIAL) {
    write_stats(o, params.n_out, total, k, params.reduced);
  } else {
    // Every chunk of a group has the same shift: states merge as they are, exactly.
    out[4u * g] = total.n;
    out[4u * g + 1u] = total.a;
    out[4u * g + 2u] = total.b;
    out[4u * g + 3u] = k;
  }
}

@compute @workgroup_size(WG)
fn stats_serial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = flat_index(gid, groups);
  if (o >= params.n_out) { return; }
  let base = kept_offset(o);
  let k = shift(base);
  var s = State(0.0, 0.0, 0.0);
  for (var c = cursor_at(0u); c.r < params.reduced; c = cursor_advance(c, 1u)) {
    s = absorb(s, x[base + cursor_offset(c)] - k);
  }
  write_stats(o, params.n_out, settle(s), k, params.reduced);
}

@compute @workgroup_size(WG)
fn stats_merge(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = wid.x + wid.y * groups.x;
  if (o >= merge_params.n_out) { return; }
  let first = o * merge_params.chunks;
  var s = State(0.0, 0.0, 0.0);
  for (var c = t; c < merge_params.chunks; c += WG) {
    let g = first + c;
    s = combine(s, State(partials[4u * g], partials[4u * g + 1u], partials[4u * g + 2u]));
  }
  merge_tree(t, s);
  if (t == 0u) {
    write_stats(o, merge_params.n_out, State(tree_n[0], tree_a[0], tree_b[0]), partials[4u * first + 3u], merge_params.reduced);
  }
}

// ---- normalise ----

fn group_of(i: u32) -> u32 {
  return (i / params.group_div) % params.groups;
}

fn entry_of(i: u32) -> u32 {
  return (i / params.affine_div) % params.affine_count;
}

fn invstd_of(g: u32) -> f32 {
  return inverseSqrt(stats[params.groups + g] + params.eps);
}

fn normalized(i: u32, g: u32) -> f32 {
  return (x[i] - stats[g]) * invstd_of(g);
}

@compute @workgroup_size(WG)
fn apply(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let first = flat_index(gid, groups) * VEC;
  if (first >= params.n) { return; }
  // The VEC elements share group and weight entry: y = (x − mean)·scale + shift.
  let g = group_of(first);
  let mean = stats[g];
  var scale = invstd_of(g);
  var shift = 0.0;
  if (RENORM) {
    scale = scale * stats[2u * params.groups + g];
    shift = stats[3u * params.groups + g];
  }
  if (HAS_WEIGHT) {
    let w = weight[entry_of(first)];
    scale = scale * w;
    shift = shift * w;
  }
  if (HAS_BIAS) { shift = shift + bias[entry_of(first)]; }
  for (var k = 0u; k < VEC; k++) {
    var v = (x[first + k] - mean) * scale + shift;
    // NaN stays NaN, as in relu.
    if (RELU) { v = zero_if_negative(v); }
    out[first + k] = v;
  }
}

// ---- backward ----

// The upstream gradient, zero where the fused ReLU was inactive.
fn upstream(i: u32) -> f32 {
  if (RELU && !(y[i] > 0.0)) { return 0.0; }
  return dy[i];
}

// γ·r: how x̂ is scaled on its way to the output.
fn scale_of(i: u32, g: u32) -> f32 {
  var w = 1.0;
  if (HAS_WEIGHT) { w = weight[entry_of(i)]; }
  if (RENORM) { w = w * stats[2u * params.groups + g]; }
  return w;
}

// (dy·w, dy·w·x̂) of element i, with w = γ·r when WEIGHTED, else 1.
fn grad_terms(i: u32) -> vec2<f32> {
  let g = group_of(i);
  var d = upstream(i);
  if (WEIGHTED) { d = d * scale_of(i, g); }
  return vec2<f32>(d, d * normalized(i, g));
}

// Writes one output's two sums: rows of [2, n_out], or of [2, n_out, chunks] when PARTIAL.
fn write_sums(o: u32, c: u32, s: vec2<f32>) {
  if (PARTIAL) {
    out[o * params.chunks + c] = s.x;
    out[(params.n_out + o) * params.chunks + c] = s.y;
  } else {
    out[o] = s.x;
    out[params.n_out + o] = s.y;
  }
}

@compute @workgroup_size(WG)
fn grad_sums(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let g = wid.x + wid.y * groups.x;
  if (g >= params.n_out * params.chunks) { return; }
  let o = g / params.chunks;
  let c = g % params.chunks;
  let base = kept_offset(o);
  let start = c * params.chunk_len;
  let end = min(params.reduced, start + params.chunk_len);
  var s = vec2<f32>(0.0, 0.0);
  for (var c = cursor_at(start + t); c.r < end; c = cursor_advance(c, WG)) {
    s += grad_terms(base + cursor_offset(c));
  }
  tree_a[t] = s.x;
  tree_b[t] = s.y;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (t < stride) {
      tree_a[t] += tree_a[t + stride];
      tree_b[t] += tree_b[t + stride];
    }
    workgroupBarrier();
  }
  if (t == 0u) { write_sums(o, c, vec2<f32>(tree_a[0], tree_b[0])); }
}

@compute @workgroup_size(WG)
fn grad_sums_serial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = flat_index(gid, groups);
  if (o >= params.n_out) { return; }
  let base = kept_offset(o);
  var s = vec2<f32>(0.0, 0.0);
  for (var c = cursor_at(0u); c.r < params.reduced; c = cursor_advance(c, 1u)) {
    s += grad_terms(base + cursor_offset(c));
  }
  write_sums(o, 0u, s);
}

// Training: dx = invstd·(dy·w − (S1 + x̂·S2)/m) with S1 = Σ dy·w, S2 = Σ dy·w·x̂ over the group
// (sums of dy alone, times w, when w is constant over the group: batch norm's channel sums).
// Evaluation: dx = dy·w·invstd.
@compute @workgroup_size(WG)
fn grad_input(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let first = flat_index(gid, groups) * VEC;
  if (first >= params.n) { return; }
  // The VEC elements share group and weight entry.
  let g = group_of(first);
  let w = scale_of(first, g);
  let inv = invstd_of(g);
  let mean = stats[g];
  let f = select(w, 1.0, WEIGHTED);
  let s1 = sums[g];
  let s2 = sums[params.groups + g];
  for (var k = 0u; k < VEC; k++) {
    let i = first + k;
    let d = upstream(i);
    if (!BATCH_STATS) {
      out[i] = d * w * inv;
    } else {
      let xh = (x[i] - mean) * inv;
      out[i] = inv * (d * w - f * (s1 + xh * s2) * params.inv_m);
    }
  }
}

// ---- running statistics ----

// running = (1 − m)·running + m·batch, with the unbiased batch variance.
@compute @workgroup_size(WG)
fn update_running(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let c = flat_index(gid, groups);
  if (c >= running_params.channels) { return; }
  let m = running_params.momentum;
  running_mean[c] = (1.0 - m) * running_mean[c] + m * stats[c];
  running_var[c] = (1.0 - m) * running_var[c] + m * stats[running_params.channels + c] * running_params.unbias;
}

// Batch renormalisation, from the batch statistics and the running ones before this step's
// update: rows mean, var copied, then r = clamp(σ_B/σ, 1/rmax, rmax) and
// d = clamp((μ_B − μ)/σ, −dmax, dmax). (The running statistics are only read here.)
@compute @workgroup_size(WG)
fn renorm_factors(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let c = flat_index(gid, groups);
  let n = factor_params.channels;
  if (c >= n) { return; }
  let mean_b = stats[c];
  let var_b = stats[n + c];
  let sigma = sqrt(running_var[c] + factor_params.eps);
  out[c] = mean_b;
  out[n + c] = var_b;
  out[2u * n + c] = clamp(sqrt(var_b + factor_params.eps) / sigma, factor_params.rmin, factor_params.rmax);
  out[3u * n + c] = clamp((mean_b - running_mean[c]) / sigma, -factor_params.dmax, factor_params.dmax);
}
