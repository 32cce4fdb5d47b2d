// Elementwise binary ops with NumPy broadcasting: the output index is decomposed with the
// output shape and recomposed with each input's strides (0 along broadcast dimensions).
// BROADCAST = false skips the index arithmetic when both inputs have the output's shape.
struct Params {
  n: u32,
  rank: u32,
  out_shape: array<vec4<u32>, 2>,
  a_strides: array<vec4<u32>, 2>,
  b_strides: array<vec4<u32>, 2>,
}

override OP: u32 = 0u;
override WG: u32 = 256u;
override BROADCAST: bool = true;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// #include "gen/op_codes.wgsl"
// #include "lib/signed_pow.wgsl"

fn apply(u: f32, v: f32) -> f32 {
  switch OP {
    case BINARY_ADD: { return u + v; }
    case BINARY_SUB: { return u - v; }
    case BINARY_MUL: { return u * v; }
    case BINARY_DIV: { return u / v; }
    case BINARY_POW: { return signed_pow(u, v); }
    case BINARY_MAXIMUM: { return max(u, v); }
    case BINARY_MINIMUM: { return min(u, v); }
    case BINARY_EQ: { return select(0.0, 1.0, u == v); }
    case BINARY_GT: { return select(0.0, 1.0, u > v); }
    case BINARY_GE: { return select(0.0, 1.0, u >= v); }
    case BINARY_LT: { return select(0.0, 1.0, u < v); }
    case BINARY_LE: { return select(0.0, 1.0, u <= v); }
    default: { return u; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  if (!BROADCAST) {
    out[i] = apply(a[i], b[i]);
    return;
  }
  var rest = i;
  var ai = 0u;
  var bi = 0u;
  for (var d = i32(params.rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let size = params.out_shape[k / 4u][k % 4u];
    let coord = rest % size;
    rest = rest / size;
    ai += coord * params.a_strides[k / 4u][k % 4u];
    bi += coord * params.b_strides[k / 4u][k % 4u];
  }
  out[i] = apply(a[ai], b[bi]);
}

// The same without broadcasting over vec4s, for sizes divisible by 4: one thread per four
// values, with vector loads and stores. n counts floats.
@group(0) @binding(1) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (4u * i >= params.n) { return; }
  let u = a4[i];
  let v = b4[i];
  out4[i] = vec4<f32>(apply(u.x, v.x), apply(u.y, v.y), apply(u.z, v.z), apply(u.w, v.w));
}
