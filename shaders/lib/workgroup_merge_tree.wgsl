// How a workgroup merges its invocations' reduction states, on any device: a shared-memory
// tree of log2(WG) steps (WG is a power of two). Kernels include "lib/workgroup_merge.wgsl";
// the build puts this file there for the plain kernel, and lib/workgroup_merge_subgroups.wgsl
// for its `_subgroups` twin. Both declare the same `Invocation` and `workgroup_merge`.

// The per-invocation builtins a reduction entry point takes (the workgroup's own, uniform
// across it, are separate parameters: the uniformity analysis judges a struct as a whole).
struct Invocation {
  @builtin(local_invocation_index) t: u32,
}

var<workgroup> tree_n: array<f32, WG>;
var<workgroup> tree_a: array<f32, WG>;
var<workgroup> tree_b: array<f32, WG>;

// Merges the workgroup's WG states; every invocation gets the total.
fn workgroup_merge(inv: Invocation, s: State) -> State {
  let t = inv.t;
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
