// Reductions (sum, mean, max, min, variance) over any set of axes, without a permute copy.
//
// The input is read in place: an output's first element sits at the offset of its kept
// coordinates, and its reduced elements are walked row by row along the innermost reduced
// dim (`Cursor` in shaders/lib/strided_offsets.wgsl), decomposing the other dims only when a
// row ends.
//
// shaders/reduce_subgroups.wgsl is this file with the shared-memory tree replaced by
// subgroup operations (for devices with the 'subgroups' feature); both include
// shaders/lib/reduce_common.wgsl, and a test keeps their entry points in step.
//
// Entry points:
//   main    one workgroup per (output, chunk): threads stride over the chunk's elements and
//           merge in a shared-memory tree. chunks = 1 writes finished values; PARTIAL writes
//           each chunk's state instead (a sum, a max/min, or count, mean, M2), for `merge`.
//   merge   one workgroup per output: merges that output's chunk states and finishes.
//   serial  one thread per output, for short reductions where a workgroup would idle.
//
// Variance is one pass and stable in float32: values are shifted by the output's first value,
// so they stay near zero whatever the mean (an ulp of 1e4 is 1e-3); each thread sums the
// shifted values and their squares, turns the sums into (count, mean, M2) (`settle`), and the
// tree merges states with Chan's parallel formula, so a large mean never cancels against
// itself as it does in E[x²] − E[x]².

// #include "lib/reduce_common.wgsl"

var<workgroup> tree_n: array<f32, WG>;
var<workgroup> tree_a: array<f32, WG>;
var<workgroup> tree_b: array<f32, WG>;

// Merges the workgroup's WG states in a shared-memory tree (WG is a power of two); every
// invocation gets the total.
fn workgroup_reduce(t: u32, s: State) -> State {
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
  return State(tree_n[0], tree_a[0], tree_b[0]);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  // The 2-D grid folds a long list of workgroups; the tail past n_out · chunks idles as a whole.
  let g = wid.x + wid.y * groups.x;
  if (g >= params.n_out * params.chunks) { return; }
  let o = g / params.chunks;
  let c = g % params.chunks;
  let base = kept_offset(o);
  let start = c * params.chunk_len;
  let end = min(params.reduced, start + params.chunk_len);
  let k = shift(base);
  let s = thread_state(base, start + t, end, WG, k);
  let total = workgroup_reduce(t, s);
  if (t == 0u) { write_chunk(o, g, total, k); }
}

@compute @workgroup_size(WG)
fn merge(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = wid.x + wid.y * groups.x;
  if (o >= merge_params.n_out) { return; }
  let s = chunk_states(o, t);
  let total = workgroup_reduce(t, s);
  if (t == 0u) {
    out[o] = finish(total, merge_params.reduced, merge_params.correction);
  }
}
