// General strided copy over a shape of up to 8 dimensions, times a scale (1 for a plain copy):
//   dst[dst_offset + Σ idx_d·dst_strides_d] = scale · src[src_offset + Σ idx_d·src_strides_d].
// With the right offsets and strides it is a permute, a slice, a broadcast, one piece of a
// concat, or a gradient written into a larger zero tensor; with a scale, the gradient of a mean
// spread over what was averaged. Invocation i walks the shape in
// row-major order.
struct Params {
  n: u32,
  rank: u32,
  src_offset: u32,
  dst_offset: u32,
  shape: array<vec4<u32>, 2>,
  src_strides: array<vec4<u32>, 2>,
  dst_strides: array<vec4<u32>, 2>,
  scale: f32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  var rest = i;
  var si = params.src_offset;
  var di = params.dst_offset;
  for (var d = i32(params.rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let size = params.shape[k / 4u][k % 4u];
    let coord = rest % size;
    rest = rest / size;
    si += coord * params.src_strides[k / 4u][k % 4u];
    di += coord * params.dst_strides[k / 4u][k % 4u];
  }
  dst[di] = select(params.scale * src[si], src[si], params.scale == 1.0);
}
