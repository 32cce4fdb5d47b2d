// Normalization: batch, group, layer and instance norm and batch renormalization, the
// per-element passes of the forward and of the exact backward. The reductions (statistics,
// backward sums) are norm_stats.wgsl and norm_grad_sums.wgsl; all three share
// lib/norm_layout.wgsl (read it first: which numbers are averaged together, the `stats` rows).
//
// Entry points:
//   apply                              y = relu?(γ·(x̂·r + d) + β), x̂ = (x − mean)/sqrt(var + eps)
//   grad_input                         dx from dy and the group sums
//   update_running, renorm_factors     running statistics in place; batch renorm's r and d
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
// apply, grad_input: elements per thread. 4 where runs of 4 consecutive elements share their
// group and weight entry (group_div and affine_div multiples of 4), so a thread reads the
// group's statistics and the weight once for four values.
override VEC: u32 = 1u;

// #include "lib/float_bits.wgsl"
// #include "lib/norm_layout.wgsl"

@group(0) @binding(0) var<uniform> running_params: RunningParams;
@group(0) @binding(0) var<uniform> factor_params: FactorParams;
@group(0) @binding(3) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> running_var: array<f32>;

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WG;
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

// Batch renormalization, from the batch statistics and the running ones before this step's
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
