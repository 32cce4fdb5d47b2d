// Reductions (sum, mean, max, min, variance) with subgroup operations, for devices with the
// 'subgroups' feature. This is shaders/reduce.wgsl (read its notes: geometry, entry points,
// the stable variance) with one change, in `workgroup_reduce`: a workgroup merges its
// invocations' states within each subgroup (subgroupAdd / subgroupMax / subgroupMin), puts
// each subgroup's state in a shared slot, and the subgroup of invocation 0 merges the slots,
// once more with subgroup operations: one barrier instead of a shared-memory tree of log2(WG).
// Uniforms, bindings and overrides come from the same shaders/lib/reduce_common.wgsl and the
// entry points are the same, so a program picks either file by its kernel name alone; a test
// keeps the two in step.
//
// The subgroup size is the device's (4 to 128; 4 on SwiftShader), and which subgroup an
// invocation index falls in is not defined, so slots are handed out by an atomic counter.
enable subgroups;

// #include "lib/reduce_common.wgsl"

// One slot per subgroup (there are at most WG), and the count of slots taken.
var<workgroup> slot_n: array<f32, WG>;
var<workgroup> slot_a: array<f32, WG>;
var<workgroup> slot_b: array<f32, WG>;
var<workgroup> slots: atomic<u32>;

// Merges the states of the subgroup's active invocations; each of them gets the result.
// (Sums, maxima and minima need no count: `finish` uses the exact one.) It is called where
// control flow is uniform within the subgroup, which the uniformity analysis cannot always
// see (a branch on `subgroupAny`), hence the diagnostic.
@diagnostic(off, subgroup_uniformity)
fn subgroup_combine(s: State) -> State {
  let nan = bitcast<f32>(nan_bits);
  switch OP {
    // subgroupMax/Min may pass a NaN over: it is looked for separately, and wins.
    case 2u: { return State(s.n, select(subgroupMax(s.a), nan, subgroupAny(is_nan(s.a))), 0.0); }
    case 3u: { return State(s.n, select(subgroupMin(s.a), nan, subgroupAny(is_nan(s.a))), 0.0); }
    case 4u: {
      // Chan's merge of many states at once: the mean is the count-weighted mean of the
      // means, and M2 = Σ M2ᵢ + Σ nᵢ (meanᵢ − mean)², a sum of non-negative terms.
      let n = subgroupAdd(s.n);
      let mean = select(subgroupAdd(s.n * s.a) / n, 0.0, n == 0.0);
      let d = s.a - mean;
      return State(n, mean, subgroupAdd(s.b + s.n * d * d));
    }
    default: { return State(s.n, subgroupAdd(s.a), 0.0); }
  }
}

// Merges the workgroup's WG states: within each subgroup, then the subgroups' states from
// their slots, in the subgroup of invocation 0 alone, which gets the total.
fn workgroup_reduce(t: u32, s: State, lane: u32, sg: u32) -> State {
  let part = subgroup_combine(s);
  if (subgroupElect()) {
    let i = atomicAdd(&slots, 1u);
    slot_n[i] = part.n;
    slot_a[i] = part.a;
    slot_b[i] = part.b;
  }
  workgroupBarrier();
  var acc = identity();
  if (subgroupAny(t == 0u)) {
    // Its invocations stride over the slots, then merge once more.
    let count = atomicLoad(&slots);
    for (var i = lane; i < count; i += sg) {
      acc = combine(acc, State(slot_n[i], slot_a[i], slot_b[i]));
    }
    acc = subgroup_combine(acc);
  }
  return acc;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) sg: u32) {
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
  let total = workgroup_reduce(t, s, lane, sg);
  if (t == 0u) { write_chunk(o, g, total, k); }
}

@compute @workgroup_size(WG)
fn merge(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) sg: u32) {
  let o = wid.x + wid.y * groups.x;
  if (o >= merge_params.n_out) { return; }
  let s = chunk_states(o, t);
  let total = workgroup_reduce(t, s, lane, sg);
  if (t == 0u) {
    out[o] = finish(total, merge_params.reduced, merge_params.correction);
  }
}
