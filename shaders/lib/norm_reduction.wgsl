// What the normalization reductions (norm_stats.wgsl, norm_grad_sums.wgsl) share: the norm
// layout, the merge pass's uniform and chunk states, and the reduction core with its workgroup
// merge (so both are embedded with a tree and with subgroups).
struct MergeParams {
  n_out: u32,
  chunks: u32,
  reduced: u32,
}

// #include "lib/norm_layout.wgsl"
@group(0) @binding(0) var<uniform> merge_params: MergeParams;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
// #include "lib/reduction.wgsl"
// #include "lib/workgroup_merge.wgsl"
