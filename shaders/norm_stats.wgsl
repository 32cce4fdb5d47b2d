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

// Mean and biased variance (M2 over the exact element count) into rows 0 and 1.
fn write_result(r: Result) {
  out[r.o] = r.s.a + r.k;
  out[r.n_out + r.o] = r.s.b / f32(r.reduced);
}

@compute @workgroup_size(WG)
fn stats_main(inv: Invocation, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  reduce_workgroup(inv, wid, groups);
}

@compute @workgroup_size(WG)
fn stats_merge(inv: Invocation, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  merge_workgroup(inv, wid, groups);
}

@compute @workgroup_size(WG)
fn stats_serial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  reduce_serial(gid, groups);
}
