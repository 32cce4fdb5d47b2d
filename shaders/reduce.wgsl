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

// The correction of this pass's uniform (the merge pass binds only merge_params).
var<private> correction: f32;

// The finished value of an output of `reduced` elements (counted exactly in u32, not in the state).
fn write_result(r: Result) {
  let nan = bitcast<f32>(nan_bits);
  var v = r.s.a;
  switch OP {
    case REDUCE_MEAN: { v = select(r.s.a / f32(r.reduced), nan, r.reduced == 0u); }
    case REDUCE_VARIANCE: {
      // PyTorch divides by max(n − correction, 0): M2 / 0 is inf, or NaN when M2 is 0.
      let divisor = max(f32(r.reduced) - correction, 0.0);
      if (divisor == 0.0) {
        v = select(bitcast<f32>(inf_bits), nan, r.s.b == 0.0 || is_nan(r.s.b));
      } else {
        v = r.s.b / divisor;
      }
    }
    default: {}
  }
  out[r.o] = v;
}

@compute @workgroup_size(WG)
fn main(inv: Invocation, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  correction = params.correction;
  reduce_workgroup(inv, wid, groups);
}

@compute @workgroup_size(WG)
fn merge(inv: Invocation, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  correction = merge_params.correction;
  merge_workgroup(inv, wid, groups);
}

@compute @workgroup_size(WG)
fn serial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  correction = params.correction;
  reduce_serial(gid, groups);
}
