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

fn write_sums(o: u32, n_out: u32, s: State) {
  out[o] = s.a;
  out[n_out + o] = s.b;
}

@compute @workgroup_size(WG)
fn grad_sums(inv: Invocation, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let g = workgroup_index(wid, groups);
  if (g >= params.n_out * params.chunks) { return; }
  let c = chunk_total(inv, g);
  if (inv.t != 0u) { return; }
  if (PARTIAL) {
    write_partial(g, c);
  } else {
    write_sums(c.o, params.n_out, c.total);
  }
}

@compute @workgroup_size(WG)
fn grad_sums_merge(inv: Invocation, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = workgroup_index(wid, groups);
  if (o >= merge_params.n_out) { return; }
  let total = merged_partials(inv, o);
  if (inv.t == 0u) { write_sums(o, merge_params.n_out, total); }
}

@compute @workgroup_size(WG)
fn grad_sums_serial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = gid.x + gid.y * groups.x * WG;
  if (o >= params.n_out) { return; }
  write_sums(o, params.n_out, serial_state(o));
}
