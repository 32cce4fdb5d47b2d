// Elementwise unary ops. OP selects the function (constant-folded by the compiler);
// alpha and beta parameterise the affine (alpha * x + beta) and scalar-power ops.
struct Params {
  n: u32,
  alpha: f32,
  beta: f32,
}

override OP: u32 = 0u;
override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

// #include "lib/float_bits.wgsl"

// pow with PyTorch's meaning for negative bases and integral exponents.
// A run-time NaN: WGSL rejects NaN in constant expressions.
var<private> nan_bits: u32 = 0x7fc00000u;

fn signed_pow(v: f32, e: f32) -> f32 {
  if (e == 0.0) { return 1.0; }
  if (v >= 0.0) { return pow(v, e); }
  if (floor(e) != e) { return bitcast<f32>(nan_bits); }
  let m = pow(-v, e);
  return select(m, -m, (abs(e) % 2.0) == 1.0);
}

fn apply(v: f32) -> f32 {
  switch OP {
    case 0u: { return -v; }
    case 1u: { return exp(v); }
    case 2u: { return log(v); }
    case 3u: { return sqrt(v); }
    case 4u: { return inverseSqrt(v); }
    // relu keeps a NaN (max(v, 0) need not).
    case 5u: { return zero_if_negative(v); }
    case 6u: { return 1.0 / (1.0 + exp(-v)); }
    case 7u: { return tanh(v); }
    case 8u: { return abs(v); }
    case 9u: { return v * v; }
    case 10u: { return params.alpha * v + params.beta; }
    case 11u: { return signed_pow(v, params.alpha); }
    case 12u: { return select(0.0, 1.0, v > 0.0); }
    case 13u: { return sign(v); }
    default: { return v; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  out[i] = apply(x[i]);
}

// The same over vec4s, for sizes divisible by 4: one thread per four values, with vector loads
// and stores (twice the throughput of `main` in SwiftShader). n counts floats.
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (4u * i >= params.n) { return; }
  let v = x4[i];
  out4[i] = vec4<f32>(apply(v.x), apply(v.y), apply(v.z), apply(v.w));
}
