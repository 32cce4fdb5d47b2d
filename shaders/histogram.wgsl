// Histogram of a tensor's values in `bins` equal bins over [lo, hi], as torch.histc: the bin of
// v is floor((v − lo)·bins / (hi − lo)) in float32, v = hi falls in the last bin, and values
// outside [lo, hi] and NaN are not counted.
//
// The counts are u32 atomics held in the output buffer itself (zeroed by a fill before `main`),
// turned into float32 by `finish`. In `main` each workgroup first counts its share of the
// elements into its own copy of the bins in workgroup memory, where only its invocations
// contend, then adds each non-zero bin to the global counts once. More bins than fit in
// workgroup memory go straight to the global counts (`main_global`).
struct Params {
  n: u32,
  bins: u32,
  lo: f32,
  hi: f32,
}

override WG: u32 = 64u;
// Bins a workgroup keeps privately (4 bytes each); the TypeScript builder sets it.
override PRIVATE_BINS: u32 = 1024u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
// The output buffer, as atomics while counting (`main`, `main_global`) ...
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;
// ... and as the bits of the finished float32 counts (`finish`).
@group(0) @binding(3) var<storage, read_write> out: array<u32>;

var<workgroup> local_counts: array<atomic<u32>, PRIVATE_BINS>;

// The bin v falls in, or params.bins when it is not counted.
fn bin_of(v: f32) -> u32 {
  // NaN fails the range test below; its bits are tested too, so that a compiler that assumes
  // no NaN cannot count one.
  if ((bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u) { return params.bins; }
  if (!(v >= params.lo && v <= params.hi)) { return params.bins; }
  let b = u32((v - params.lo) * f32(params.bins) / (params.hi - params.lo));
  return min(b, params.bins - 1u);
}

// Workgroups stride over the elements: invocation t of workgroup w reads w·WG + t, then every
// num_workgroups·WG further (workgroup memory starts zeroed).
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  for (var i = wid.x * WG + t; i < params.n; i += groups.x * WG) {
    let b = bin_of(x[i]);
    if (b < params.bins) { atomicAdd(&local_counts[b], 1u); }
  }
  workgroupBarrier();
  for (var b = t; b < params.bins; b += WG) {
    let c = atomicLoad(&local_counts[b]);
    if (c > 0u) { atomicAdd(&counts[b], c); }
  }
}

@compute @workgroup_size(WG)
fn main_global(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  for (var i = wid.x * WG + t; i < params.n; i += groups.x * WG) {
    let b = bin_of(x[i]);
    if (b < params.bins) { atomicAdd(&counts[b], 1u); }
  }
}

// One invocation per bin: the integer count becomes a float32 (exact up to 2^24).
@compute @workgroup_size(WG)
fn finish(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i < params.bins) { out[i] = bitcast<u32>(f32(out[i])); }
}
