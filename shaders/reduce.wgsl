// Reductions (sum, mean, max, min, variance) over any set of axes, without a permute copy.
//
// The input is read in place: an output's first element sits at the offset of its kept
// coordinates, and its reduced elements are walked by decomposing a flat index r in
// [0, reduced) with the reduced dims' shape and recomposing it with their input strides.
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
// Variance is one pass and stable in float32: each thread keeps (count, mean, M2) with
// Welford updates and the tree merges states with Chan's parallel formula, so a large mean
// never cancels against itself as it does in E[x²] − E[x]². The values are also shifted by
// the output's first value, so the running mean stays small and its rounding (an ulp of
// 1e4 is 1e-3) does not leak into M2 when there are few values per thread.

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
  var s = identity();
  for (var c = cursor_at(start + t); c.r < end; c = cursor_advance(c, WG)) {
    s = absorb(s, x[base + cursor_offset(c)], k);
  }
  s = settle(s);
  let total = workgroup_reduce(t, s);
  if (t != 0u) { return; }
  if (!PARTIAL) {
    out[o] = finish(total, params.reduced, params.correction);
  } else if (OP == 4u) {
    // Chunk states hold true means, so they can be merged with states from anywhere.
    out[3u * g] = total.n;
    out[3u * g + 1u] = total.a + k;
    out[3u * g + 2u] = total.b;
  } else {
    out[g] = total.a;
  }
}

@compute @workgroup_size(WG)
fn merge(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = wid.x + wid.y * groups.x;
  if (o >= merge_params.n_out) { return; }
  // Means are merged relative to the first chunk's: their differences are then exact.
  let first = o * merge_params.chunks;
  let k = select(0.0, partials[3u * first + 1u], OP == 4u);
  var s = identity();
  for (var c = t; c < merge_params.chunks; c += WG) {
    let g = first + c;
    if (OP == 4u) {
      s = combine(s, State(partials[3u * g], partials[3u * g + 1u] - k, partials[3u * g + 2u]));
    } else {
      s = combine(s, State(1.0, partials[g], 0.0));
    }
  }
  let total = workgroup_reduce(t, s);
  if (t == 0u) {
    out[o] = finish(total, merge_params.reduced, merge_params.correction);
  }
}

@compute @workgroup_size(WG)
fn serial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = gid.x + gid.y * groups.x * WG;
  if (o >= params.n_out) { return; }
  let base = kept_offset(o);
  let k = shift(base);
  var s = identity();
  for (var c = cursor_at(0u); c.r < params.reduced; c = cursor_advance(c, 1u)) {
    s = absorb(s, x[base + cursor_offset(c)], k);
  }
  s = settle(s);
  out[o] = finish(s, params.reduced, params.correction);
}
