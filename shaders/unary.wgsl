// Elementwise unary ops. OP selects the function (its codes come from kernels/op_codes.ts; constant-folded);
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
// #include "lib/signed_pow.wgsl"
// #include "gen/op_codes.wgsl"

fn apply(v: f32) -> f32 {
  switch OP {
    case UNARY_NEG: { return -v; }
    case UNARY_EXP: { return exp(v); }
    case UNARY_LOG: { return log(v); }
    case UNARY_SQRT: { return sqrt(v); }
    case UNARY_RSQRT: { return inverseSqrt(v); }
    // relu keeps a NaN (max(v, 0) need not).
    case UNARY_RELU: { return zero_if_negative(v); }
    case UNARY_SIGMOID: { return 1.0 / (1.0 + exp(-v)); }
    case UNARY_TANH: { return tanh(v); }
    case UNARY_ABS: { return abs(v); }
    case UNARY_SQUARE: { return v * v; }
    case UNARY_AFFINE: { return params.alpha * v + params.beta; }
    case UNARY_POW_SCALAR: { return signed_pow(v, params.alpha); }
    case UNARY_STEP: { return select(0.0, 1.0, v > 0.0); }
    case UNARY_SIGN: { return sign(v); }
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
