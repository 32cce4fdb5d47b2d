// Shared by shaders/reduce.wgsl and shaders/reduce_subgroups.wgsl (included by
// scripts/embed-shaders.mjs): uniforms, bindings, the reduction state and its merge, the
// strided walk, what a thread accumulates and what a workgroup writes, and the `serial` entry
// point. Each including file adds its workgroup memory, `workgroup_reduce` and the `main` and
// `merge` entry points, which differ only in how a workgroup merges.
struct Params {
  n_out: u32,
  chunks: u32,
  chunk_len: u32,
  reduced: u32,
  kept_rank: u32,
  reduced_rank: u32,
  correction: f32,
  kept_shape: array<vec4<u32>, 2>,
  kept_strides: array<vec4<u32>, 2>,
  reduced_shape: array<vec4<u32>, 2>,
  reduced_strides: array<vec4<u32>, 2>,
}

struct MergeParams {
  n_out: u32,
  chunks: u32,
  reduced: u32,
  correction: f32,
}

// 0 sum, 1 mean, 2 max, 3 min, 4 variance.
override OP: u32 = 0u;
override WG: u32 = 256u;
override PARTIAL: bool = false;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> merge_params: MergeParams;
@group(0) @binding(4) var<storage, read> partials: array<f32>;

// The running state of one reduction: n = count, a = sum / best / mean, b = M2.
struct State {
  n: f32,
  a: f32,
  b: f32,
}

// Run-time NaN and infinities: WGSL rejects them in constant expressions.
var<private> nan_bits: u32 = 0x7fc00000u;
var<private> inf_bits: u32 = 0x7f800000u;

// #include "lib/float_bits.wgsl"

fn identity() -> State {
  let inf = bitcast<f32>(inf_bits);
  switch OP {
    case 2u: { return State(0.0, -inf, 0.0); }
    case 3u: { return State(0.0, inf, 0.0); }
    default: { return State(0.0, 0.0, 0.0); }
  }
}

// max/min that propagate NaN, as PyTorch's amax/amin do.
fn extreme(p: f32, q: f32) -> f32 {
  if (is_nan(p)) { return p; }
  if (is_nan(q)) { return q; }
  return select(min(p, q), max(p, q), OP == 2u);
}

// Takes one more value into a state; variance works on v − k (see `shift`).
fn absorb(s: State, v: f32, k: f32) -> State {
  switch OP {
    case 2u, 3u: { return State(s.n + 1.0, extreme(s.a, v), 0.0); }
    case 4u: {
      // The count and the sums of u = v − k and u² (no division per value); `settle` turns
      // them into (count, mean, M2) before any merge. The shift keeps u near zero.
      let u = v - k;
      return State(s.n + 1.0, s.a + u, s.b + u * u);
    }
    default: { return State(s.n + 1.0, s.a + v, 0.0); }
  }
}

fn combine(p: State, q: State) -> State {
  switch OP {
    case 2u, 3u: { return State(p.n + q.n, extreme(p.a, q.a), 0.0); }
    case 4u: {
      // Chan et al.: merge two (count, mean, M2) states.
      if (q.n == 0.0) { return p; }
      if (p.n == 0.0) { return q; }
      let n = p.n + q.n;
      let d = q.a - p.a;
      let w = q.n / n;
      return State(n, p.a + d * w, p.b + q.b + d * d * p.n * w);
    }
    default: { return State(p.n + q.n, p.a + q.a, 0.0); }
  }
}

// The result for an output of `reduced` elements (counted exactly in u32, not in the state).
// A thread's accumulated state in the form merges and `finish` take: for the variance,
// (count, Σu, Σu²) becomes (count, mean of u, M2).
fn settle(s: State) -> State {
  if (OP != 4u || s.n == 0.0) { return s; }
  let mean = s.a / s.n;
  // Rounding can leave a tiny negative M2; a NaN stays NaN.
  return State(s.n, mean, zero_if_negative(s.b - s.a * mean));
}

fn finish(s: State, reduced: u32, correction: f32) -> f32 {
  let nan = bitcast<f32>(nan_bits);
  switch OP {
    case 1u: { return select(s.a / f32(reduced), nan, reduced == 0u); }
    case 4u: {
      // PyTorch divides by max(n − correction, 0): M2 / 0 is inf, or NaN when M2 is 0.
      let divisor = max(f32(reduced) - correction, 0.0);
      if (divisor == 0.0) { return select(bitcast<f32>(inf_bits), nan, s.b == 0.0 || is_nan(s.b)); }
      return s.b / divisor;
    }
    default: { return s.a; }
  }
}

// #include "lib/strided_offsets.wgsl"

// What variance subtracts from every value of the output at `base`: its first value
// (0 for the other reductions, and for an empty or infinite first value).
fn shift(base: u32) -> f32 {
  if (OP != 4u || params.reduced == 0u) { return 0.0; }
  let v = x[base];
  return select(v, 0.0, (bitcast<u32>(v) & 0x7fffffffu) >= 0x7f800000u);
}

// The settled state of elements first, first + step, ... below `end` of the output whose first
// element is at `base`, shifted by k.
fn thread_state(base: u32, first: u32, end: u32, step: u32, k: f32) -> State {
  var s = identity();
  for (var c = cursor_at(first); c.r < end; c = cursor_advance(c, step)) {
    s = absorb(s, x[base + cursor_offset(c)], k);
  }
  return settle(s);
}

// What `main` writes for workgroup g (output o) from the merged state: the finished value,
// or with PARTIAL the chunk's state for `merge`.
fn write_chunk(o: u32, g: u32, total: State, k: f32) {
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

// The states of output o's chunks t, t + WG, ... merged, for `merge`. Means are merged
// relative to the first chunk's: their differences are then exact.
fn chunk_states(o: u32, t: u32) -> State {
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
  return s;
}

// One thread per output, for short reductions where a workgroup would idle.
@compute @workgroup_size(WG)
fn serial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = gid.x + gid.y * groups.x * WG;
  if (o >= params.n_out) { return; }
  let base = kept_offset(o);
  out[o] = finish(thread_state(base, 0u, params.reduced, 1u, shift(base)), params.reduced, params.correction);
}
