// The reduction core: the Chan/Welford running state (count, mean, M2) and its merges, written
// once for every reduction (sum, mean, max, min, variance, and the pair sums of the
// normalization backward). The plain reductions (reduce.wgsl), the normalization statistics
// (norm_stats.wgsl) and the normalization gradient sums (norm_grad_sums.wgsl) are thin entry
// points over it.
//
// A kernel that includes it declares:
//   - `params`, a uniform with n_out, chunks, chunk_len, reduced and the strided geometry of
//     lib/strided_offsets.wgsl (an output's first element sits at the offset of its kept
//     coordinates; its reduced elements are walked row by row along the innermost reduced dim);
//   - `merge_params`, a uniform with n_out and chunks (the second level of a split reduction);
//   - `out` (read_write) and `partials` (read), storage arrays of f32;
//   - `fn reduce_input(i: u32) -> vec2<f32>`: the value(s) element i contributes (the second
//     only for REDUCE_SUM_PAIR);
//   - `fn write_result(r: Result)`: what it writes for one finished output;
// and includes "lib/workgroup_merge.wgsl" for `Invocation` and `workgroup_merge`: the build
// embeds the kernel once with a shared-memory tree and once with subgroup operations. Its entry
// points call `reduce_workgroup`, `merge_workgroup` and `reduce_serial`.
//
// Variance is one pass and stable in float32: values are shifted by the output's first value,
// so they stay near zero whatever the mean (an ulp of 1e4 is 1e-3); each thread sums the
// shifted values and their squares, turns the sums into (count, mean, M2) (`settle`), and
// states merge with Chan's parallel formula, so a large mean never cancels against itself as
// it does in E[x²] − E[x]².
//
// A reduction runs as one dispatch (one workgroup per output, or one thread per output for
// short ones), or in two levels: with PARTIAL, one workgroup per (output, chunk) writes its
// chunk's state to `out`, and a merge dispatch reads them from `partials`. How a reduction is
// split is chosen by packages/core/src/kernels/reduction_plan.ts.
// #include "gen/op_codes.wgsl"
// #include "lib/float_bits.wgsl"
// #include "lib/strided_offsets.wgsl"

// The reduction: a REDUCE_* code.
override OP: u32 = REDUCE_SUM;
override WG: u32 = 256u;
// Write the chunk's state instead of the finished value, for a merge dispatch.
override PARTIAL: bool = false;

// The running state: n = count; a = sum / best / mean; b = M2 (variance) or the second sum
// (REDUCE_SUM_PAIR).
struct State {
  n: f32,
  a: f32,
  b: f32,
}

fn identity() -> State {
  let inf = bitcast<f32>(inf_bits);
  switch OP {
    case REDUCE_MAX: { return State(0.0, -inf, 0.0); }
    case REDUCE_MIN: { return State(0.0, inf, 0.0); }
    default: { return State(0.0, 0.0, 0.0); }
  }
}

// max/min that propagate NaN, as PyTorch's amax/amin do.
fn extreme(p: f32, q: f32) -> f32 {
  if (is_nan(p)) { return p; }
  if (is_nan(q)) { return q; }
  return select(min(p, q), max(p, q), OP == REDUCE_MAX);
}

// Takes one more element into a state; variance works on v − k (see `shift`).
fn absorb(s: State, v: vec2<f32>, k: f32) -> State {
  switch OP {
    case REDUCE_MAX, REDUCE_MIN: { return State(s.n + 1.0, extreme(s.a, v.x), 0.0); }
    case REDUCE_VARIANCE: {
      // The count and the sums of u = v − k and u² (no division per value); `settle` turns
      // them into (count, mean, M2) before any merge.
      let u = v.x - k;
      return State(s.n + 1.0, s.a + u, s.b + u * u);
    }
    default: { return State(s.n + 1.0, s.a + v.x, s.b + v.y); }
  }
}

fn combine(p: State, q: State) -> State {
  switch OP {
    case REDUCE_MAX, REDUCE_MIN: { return State(p.n + q.n, extreme(p.a, q.a), 0.0); }
    case REDUCE_VARIANCE: {
      // Chan et al.: merge two (count, mean, M2) states.
      if (q.n == 0.0) { return p; }
      if (p.n == 0.0) { return q; }
      let n = p.n + q.n;
      let d = q.a - p.a;
      let w = q.n / n;
      return State(n, p.a + d * w, p.b + q.b + d * d * p.n * w);
    }
    default: { return State(p.n + q.n, p.a + q.a, p.b + q.b); }
  }
}

// A thread's accumulated state in the form merges take: for the variance, (count, Σu, Σu²)
// becomes (count, mean of u, M2).
fn settle(s: State) -> State {
  if (OP != REDUCE_VARIANCE || s.n == 0.0) { return s; }
  let mean = s.a / s.n;
  // Rounding can leave a tiny negative M2; a NaN stays NaN.
  return State(s.n, mean, zero_if_negative(s.b - s.a * mean));
}

// What variance subtracts from every value of the output whose first element is at `base`:
// that first value (0 for the other reductions, and for an empty or infinite first value).
fn shift(base: u32) -> f32 {
  if (OP != REDUCE_VARIANCE || params.reduced == 0u) { return 0.0; }
  let v = reduce_input(base).x;
  return select(v, 0.0, (bitcast<u32>(v) & 0x7fffffffu) >= 0x7f800000u);
}

// The settled state of elements first, first + step, ... below `end` of the output whose first
// element is at `base`, shifted by k.
fn thread_state(base: u32, first: u32, end: u32, step: u32, k: f32) -> State {
  var s = identity();
  for (var c = cursor_at(first); c.r < end; c = cursor_advance(c, step)) {
    s = absorb(s, reduce_input(base + cursor_offset(c)), k);
  }
  return settle(s);
}

// Floats per chunk state: (count, mean, M2), two sums, or one value.
fn partial_width() -> u32 {
  switch OP {
    case REDUCE_VARIANCE: { return 3u; }
    case REDUCE_SUM_PAIR: { return 2u; }
    default: { return 1u; }
  }
}

// A merged state of output o (complete in invocation 0), and the shift its values were taken
// relative to.
struct Chunk {
  o: u32,
  total: State,
  k: f32,
}

fn chunk_total(inv: Invocation, g: u32) -> Chunk {
  let o = g / params.chunks;
  let c = g % params.chunks;
  let base = kept_offset(o);
  let start = c * params.chunk_len;
  let end = min(params.reduced, start + params.chunk_len);
  let k = shift(base);
  let total = workgroup_merge(inv, thread_state(base, start + inv.t, end, WG, k));
  return Chunk(o, total, k);
}

// Chunk g's state for the merge (`merged_partials` reads it back). Variance stores the true
// mean, so that states shifted by different values can merge.
fn write_partial(g: u32, c: Chunk) {
  let at = partial_width() * g;
  switch OP {
    case REDUCE_VARIANCE: {
      out[at] = c.total.n;
      out[at + 1u] = c.total.a + c.k;
      out[at + 2u] = c.total.b;
    }
    case REDUCE_SUM_PAIR: {
      out[at] = c.total.a;
      out[at + 1u] = c.total.b;
    }
    default: { out[at] = c.total.a; }
  }
}

// The workgroup index of a 2-D grid folded over a long list of workgroups.
fn workgroup_index(wid: vec3u, groups: vec3u) -> u32 {
  return wid.x + wid.y * groups.x;
}

// Output o's chunk states merged (complete in invocation 0). Variance means are merged
// relative to the first chunk's, which becomes the shift: their differences are then exact.
fn merged_partials(inv: Invocation, o: u32) -> Chunk {
  let w = partial_width();
  let first = o * merge_params.chunks;
  let k = select(0.0, partials[w * first + 1u], OP == REDUCE_VARIANCE);
  var s = identity();
  for (var c = inv.t; c < merge_params.chunks; c += WG) {
    let at = w * (first + c);
    switch OP {
      case REDUCE_VARIANCE: { s = combine(s, State(partials[at], partials[at + 1u] - k, partials[at + 2u])); }
      case REDUCE_SUM_PAIR: { s = combine(s, State(1.0, partials[at], partials[at + 1u])); }
      default: { s = combine(s, State(1.0, partials[at], 0.0)); }
    }
  }
  return Chunk(o, workgroup_merge(inv, s), k);
}

// One finished output for the kernel's `write_result`: its index, the number of outputs and of
// elements reduced into each (exact, from the uniforms), its state and the shift it is
// relative to (variance: mean = s.a + k).
struct Result {
  o: u32,
  n_out: u32,
  reduced: u32,
  s: State,
  k: f32,
}

// The first pass, for workgroup (wid, groups): its chunk's merged state, written as a chunk
// state (PARTIAL) or finished by `write_result`.
fn reduce_workgroup(inv: Invocation, wid: vec3u, groups: vec3u) {
  let g = workgroup_index(wid, groups);
  if (g >= params.n_out * params.chunks) { return; }
  let c = chunk_total(inv, g);
  if (inv.t != 0u) { return; }
  if (PARTIAL) {
    write_partial(g, c);
  } else {
    write_result(Result(c.o, params.n_out, params.reduced, c.total, c.k));
  }
}

// The merge pass, for workgroup (wid, groups): one output's chunk states, finished.
fn merge_workgroup(inv: Invocation, wid: vec3u, groups: vec3u) {
  let o = workgroup_index(wid, groups);
  if (o >= merge_params.n_out) { return; }
  let c = merged_partials(inv, o);
  if (inv.t == 0u) { write_result(Result(o, merge_params.n_out, merge_params.reduced, c.total, c.k)); }
}

// One thread per output (global invocation gid), for short reductions.
fn reduce_serial(gid: vec3u, groups: vec3u) {
  let o = gid.x + gid.y * groups.x * WG;
  if (o >= params.n_out) { return; }
  let base = kept_offset(o);
  let k = shift(base);
  write_result(Result(o, params.n_out, params.reduced, thread_state(base, 0u, params.reduced, 1u, k), k));
}
