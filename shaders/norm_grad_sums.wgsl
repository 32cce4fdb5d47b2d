// The normalization backward's sums: Σ dy·w and Σ dy·w·x̂ per statistics group or per weight
// entry (w = γ·r when WEIGHTED, else 1; see lib/norm_layout.wgsl), into rows 0 and 1 of `out`
// ([2, outputs]). Thin entry points over the reduction core (lib/reduction.wgsl) with
// OP = REDUCE_SUM_PAIR.
//
// Entry points: grad_sums (one workgroup per output, or with PARTIAL per chunk of an output),
// grad_sums_merge (the chunk states of each output), grad_sums_serial (one thread per output).
// #include "lib/norm_reduction.wgsl"

fn reduce_input(i: u32) -> vec2<f32> {
  return grad_terms(i);
}

// The two sums into rows 0 and 1.
fn write_result(r: Result) {
  out[r.o] = r.s.a;
  out[r.n_out + r.o] = r.s.b;
}

@compute @workgroup_size(WG)
fn grad_sums(inv: Invocation, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  reduce_workgroup(inv, wid, groups);
}

@compute @workgroup_size(WG)
fn grad_sums_merge(inv: Invocation, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  merge_workgroup(inv, wid, groups);
}

@compute @workgroup_size(WG)
fn grad_sums_serial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  reduce_serial(gid, groups);
}
