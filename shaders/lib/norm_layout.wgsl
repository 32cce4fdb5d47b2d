// What every normalization kernel shares (norm.wgsl, norm_stats.wgsl, norm_grad_sums.wgsl):
// the layout uniform, the bindings, and the per-element terms of the forward and backward.
//
// Which numbers are averaged together is all that tells the norms apart. Element i of the
// input (flat, row-major) belongs to statistics group (i / group_div) % groups and uses
// weight/bias entry (i / affine_div) % affine_count: batch norm groups per channel, group norm
// per (sample, group of channels), layer norm per sample; the weight is per channel, or per
// position of the normalized shape for layer norm.
//
// `stats` holds one row per quantity, `groups` wide: mean, biased variance, and for batch
// renormalization r and d. Kernels take 1/sqrt(var + eps) from it themselves, so evaluation
// mode passes the running mean and variance in the same rows.
struct Params {
  // Elements of the input.
  n: u32,
  // Outputs of a reduction and how each is split (the geometry of lib/strided_offsets.wgsl).
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

// The statistics are the input's own (training), so the Jacobian is dense.
override BATCH_STATS: bool = true;
override HAS_WEIGHT: bool = false;
override HAS_BIAS: bool = false;
// stats has rows r and d: x̂ becomes x̂·r + d.
override RENORM: bool = false;
override RELU: bool = false;
// Gradient sums: sum dy·γ·r instead of dy (the group sums of group and layer norm, where γ
// varies within a group); grad_input: the sums are of that kind.
override WEIGHTED: bool = false;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read> y: array<f32>;
@group(0) @binding(7) var<storage, read> sums: array<f32>;
@group(0) @binding(8) var<storage, read_write> out: array<f32>;

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
