// Reductions (sum, mean, max, min, variance) over any set of axes, without a permute copy:
// thin entry points over the reduction core (lib/reduction.wgsl: the state, its merges, the
// strided walk, chunk states). Embedded twice: `reduce` merges workgroups with a shared-memory
// tree, `reduce_subgroups` with subgroup operations.
//
// Entry points:
//   main    one workgroup per (output, chunk): chunks = 1 writes finished values; PARTIAL
//           writes each chunk's state instead, for `merge`.
//   merge   one workgroup per output: merges that output's chunk states and finishes.
//   serial  one thread per output, for short reductions where a workgroup would idle.
struct Params {
  n_out: u32,
  chunks: u32,
  chunk_len: u32,
  reduced: u32,
  kept_rank: u32,
  reduced_rank: u32,
  correction: f32,
  kept_shape: array<vec4<u32>, 2>,
  kept_strides: array<vec4<u32>, 2>,
  reduced_shape: array<vec4<u32>, 2>,
  reduced_strides: array<vec4<u32>, 2>,
}

struct MergeParams {
  n_out: u32,
  chunks: u32,
  reduced: u32,
  correction: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> merge_params: MergeParams;
@group(0) @binding(4) var<storage, read> partials: array<f32>;

// #include "lib/reduction.wgsl"
// #include "lib/workgroup_merge.wgsl"

fn reduce_input(i: u32) -> vec2<f32> {
  return vec2<f32>(x[i], 0.0);
}

// The result for an output of `reduced` elements (counted exactly in u32, not in the state).
fn finish(s: State, reduced: u32, correction: f32) -> f32 {
  let nan = bitcast<f32>(nan_bits);
  switch OP {
    case REDUCE_MEAN: { return select(s.a / f32(reduced), nan, reduced == 0u); }
    case REDUCE_VARIANCE: {
      // PyTorch divides by max(n − correction, 0): M2 / 0 is inf, or NaN when M2 is 0.
      let divisor = max(f32(reduced) - correction, 0.0);
      if (divisor == 0.0) { return select(bitcast<f32>(inf_bits), nan, s.b == 0.0 || is_nan(s.b)); }
      return s.b / divisor;
    }
    default: { return s.a; }
  }
}

@compute @workgroup_size(WG)
fn main(inv: Invocation, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let g = workgroup_index(wid, groups);
  if (g >= params.n_out * params.chunks) { return; }
  let c = chunk_total(inv, g);
  if (inv.t != 0u) { return; }
  if (PARTIAL) {
    write_partial(g, c);
  } else {
    out[c.o] = finish(c.total, params.reduced, params.correction);
  }
}

@compute @workgroup_size(WG)
fn merge(inv: Invocation, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = workgroup_index(wid, groups);
  if (o >= merge_params.n_out) { return; }
  let total = merged_partials(inv, o);
  if (inv.t == 0u) { out[o] = finish(total, merge_params.reduced, merge_params.correction); }
}

@compute @workgroup_size(WG)
fn serial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = gid.x + gid.y * groups.x * WG;
  if (o >= params.n_out) { return; }
  out[o] = finish(serial_state(o), params.reduced, params.correction);
}
