// Dropout: out[i] = x[i] · m[i], m[i] = scale where element i is kept and 0 where it is dropped
// (a product, not a select, so that NaN stays NaN as in PyTorch). Whether element i is kept
// depends only on (seed, i): a counter-based hash, so the backward recomputes the same mask
// instead of storing it, and the CPU reference reproduces it bit for bit with u32 arithmetic.
// The top 24 bits of the hash are a uniform integer r in [0, 2^24); the element is kept when
// r >= threshold (threshold = ⌈p · 2^24⌉, so p = 1 keeps nothing).
struct Params {
  n: u32,
  seed: u32,
  threshold: u32,
  scale: f32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

// PCG hash (Jarzynski & Olano, "Hash Functions for GPU Rendering", 2020): a bijection of u32.
fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  let r = pcg(pcg(i) ^ pcg(params.seed)) >> 8u;
  let m = select(0.0, params.scale, r >= params.threshold);
  out[i] = x[i] * m;
}
