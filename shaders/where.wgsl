// Elementwise select with broadcasting of all three inputs: out = cond != 0 ? a : b.
// The output index is decomposed with the output shape and recomposed with each input's
// strides (0 along broadcast dimensions). A NaN condition counts as nonzero, as in PyTorch's
// conversion to bool.
struct Params {
  n: u32,
  rank: u32,
  out_shape: array<vec4<u32>, 2>,
  cond_strides: array<vec4<u32>, 2>,
  a_strides: array<vec4<u32>, 2>,
  b_strides: array<vec4<u32>, 2>,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cond: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  var rest = i;
  var ci = 0u;
  var ai = 0u;
  var bi = 0u;
  for (var d = i32(params.rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let size = params.out_shape[k / 4u][k % 4u];
    let coord = rest % size;
    rest = rest / size;
    ci += coord * params.cond_strides[k / 4u][k % 4u];
    ai += coord * params.a_strides[k / 4u][k % 4u];
    bi += coord * params.b_strides[k / 4u][k % 4u];
  }
  // select(f, t, c): written as a comparison so that NaN selects a.
  out[i] = select(b[bi], a[ai], !(cond[ci] == 0.0));
}
