// Normalization statistics: mean and biased variance per statistics group (see
// lib/norm_layout.wgsl), into rows 0 and 1 of `out` ([2, groups]). Thin entry points over the
// reduction core (lib/reduction.wgsl) with OP = REDUCE_VARIANCE: shifted sums per thread, Chan
// merges in the workgroup, and a second level for long groups.
//
// Entry points: stats_main (one workgroup per group, or with PARTIAL per chunk of a group),
// stats_merge (the chunk states of each group), stats_serial (one thread per group).
// #include "lib/norm_reduction.wgsl"

fn reduce_input(i: u32) -> vec2<f32> {
  return vec2<f32>(x[i], 0.0);
}

// Mean and biased variance (M2 over the exact element count) of output o, whose state is
// relative to k.
fn write_stats(o: u32, n_out: u32, s: State, k: f32, reduced: u32) {
  out[o] = s.a + k;
  out[n_out + o] = s.b / f32(reduced);
}

@compute @workgroup_size(WG)
fn stats_main(inv: Invocation, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let g = workgroup_index(wid, groups);
  if (g >= params.n_out * params.chunks) { return; }
  let c = chunk_total(inv, g);
  if (inv.t != 0u) { return; }
  if (PARTIAL) {
    write_partial(g, c);
  } else {
    write_stats(c.o, params.n_out, c.total, c.k, params.reduced);
  }
}

@compute @workgroup_size(WG)
fn stats_merge(inv: Invocation, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = workgroup_index(wid, groups);
  if (o >= merge_params.n_out) { return; }
  let total = merged_partials(inv, o);
  if (inv.t == 0u) { write_stats(o, merge_params.n_out, total, merged_shift(o), merge_params.reduced); }
}

@compute @workgroup_size(WG)
fn stats_serial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = gid.x + gid.y * groups.x * WG;
  if (o >= params.n_out) { return; }
  let base = kept_offset(o);
  let k = shift(base);
  write_stats(o, params.n_out, thread_state(base, 0u, params.reduced, 1u, k), k, params.reduced);
}
