// How a workgroup merges its invocations' reduction states on a device with the 'subgroups'
// feature (the `_subgroups` twin of a kernel; see lib/workgroup_merge_tree.wgsl): each
// subgroup merges its invocations with subgroupAdd / subgroupMax / subgroupMin, puts its
// state in a shared slot, and the subgroup of invocation 0 merges the slots, once more with
// subgroup operations: one barrier instead of a tree of log2(WG).
//
// The subgroup size is the device's (4 to 128; 4 on SwiftShader), and which subgroup an
// invocation index falls in is not defined, so slots are handed out by an atomic counter.

// The per-invocation builtins a reduction entry point takes (the workgroup's own, uniform
// across it, are separate parameters: the uniformity analysis judges a struct as a whole).
struct Invocation {
  @builtin(local_invocation_index) t: u32,
  @builtin(subgroup_invocation_id) lane: u32,
  @builtin(subgroup_size) sg: u32,
}

// One slot per subgroup (there are at most WG), and the count of slots taken.
var<workgroup> slot_n: array<f32, WG>;
var<workgroup> slot_a: array<f32, WG>;
var<workgroup> slot_b: array<f32, WG>;
var<workgroup> slots: atomic<u32>;

// Merges the states of the subgroup's active invocations; each of them gets the result.
// (Sums, maxima and minima need no count: the kernels use the exact one.) It is called where
// control flow is uniform within the subgroup, which the uniformity analysis cannot always
// see (a branch on `subgroupAny`), hence the diagnostic.
@diagnostic(off, subgroup_uniformity)
fn subgroup_combine(s: State) -> State {
  let nan = bitcast<f32>(nan_bits);
  switch OP {
    // subgroupMax/Min may pass a NaN over: it is looked for separately, and wins.
    case REDUCE_MAX: { return State(s.n, select(subgroupMax(s.a), nan, subgroupAny(is_nan(s.a))), 0.0); }
    case REDUCE_MIN: { return State(s.n, select(subgroupMin(s.a), nan, subgroupAny(is_nan(s.a))), 0.0); }
    case REDUCE_VARIANCE: {
      // Chan's merge of many states at once: the mean is the count-weighted mean of the
      // means, and M2 = Σ M2ᵢ + Σ nᵢ (meanᵢ − mean)², a sum of non-negative terms.
      let n = subgroupAdd(s.n);
      let mean = select(subgroupAdd(s.n * s.a) / n, 0.0, n == 0.0);
      let d = s.a - mean;
      return State(n, mean, subgroupAdd(s.b + s.n * d * d));
    }
    case REDUCE_SUM_PAIR: { return State(s.n, subgroupAdd(s.a), subgroupAdd(s.b)); }
    default: { return State(s.n, subgroupAdd(s.a), 0.0); }
  }
}

// Merges the workgroup's WG states: within each subgroup, then the subgroups' states from
// their slots, in the subgroup of invocation 0 alone, which gets the total.
fn workgroup_merge(inv: Invocation, s: State) -> State {
  let part = subgroup_combine(s);
  if (subgroupElect()) {
    let i = atomicAdd(&slots, 1u);
    slot_n[i] = part.n;
    slot_a[i] = part.a;
    slot_b[i] = part.b;
  }
  workgroupBarrier();
  var acc = identity();
  if (subgroupAny(inv.t == 0u)) {
    // Its invocations stride over the slots, then merge once more.
    let count = atomicLoad(&slots);
    for (var i = inv.lane; i < count; i += inv.sg) {
      acc = combine(acc, State(slot_n[i], slot_a[i], slot_b[i]));
    }
    acc = subgroup_combine(acc);
  }
  return acc;
}
