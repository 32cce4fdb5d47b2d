// torch.gather along `dim`: out[c] = x[c with c[dim] replaced by index[c]], out shaped like
// index. The backward sends each gradient entry back where it was read from without atomics:
// one thread per element of x sums the gradient entries along `dim` whose index names it.
// Indices are floats holding integers; they are rounded and clamped to [0, x_shape[dim]),
// so a bad index never reads or writes out of bounds (the CPU reference rejects it).
struct Params {
  n: u32,
  rank: u32,
  dim: u32,
  x_shape: array<vec4<u32>, 2>,
  index_shape: array<vec4<u32>, 2>,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> index: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
// Backward: grad has the index's shape, dx the shape of x.
@group(0) @binding(4) var<storage, read> grad: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;

fn x_dim(d: u32) -> u32 { return params.x_shape[d / 4u][d % 4u]; }
fn index_dim(d: u32) -> u32 { return params.index_shape[d / 4u][d % 4u]; }

fn position(value: f32) -> u32 {
  return u32(clamp(round(value), 0.0, f32(x_dim(params.dim) - 1u)));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  // Decompose i with the index's shape; recompose with the strides of x.
  var rest = i;
  var offset = 0u;
  var stride = 1u;
  for (var d = i32(params.rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let coord = rest % index_dim(k);
    rest = rest / index_dim(k);
    let c = select(coord, position(index[i]), k == params.dim);
    offset += c * stride;
    stride *= x_dim(k);
  }
  out[i] = x[offset];
}

@compute @workgroup_size(WG)
fn gather_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  // Decompose i with the shape of x; find the first entry of its line along dim in grad.
  var rest = i;
  var base = 0u;
  var stride = 1u;
  var dim_stride = 1u;
  var target_pos = 0u;
  var inside = true;
  for (var d = i32(params.rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let coord = rest % x_dim(k);
    rest = rest / x_dim(k);
    if (k == params.dim) {
      target_pos = coord;
      dim_stride = stride;
    } else {
      inside = inside && coord < index_dim(k);
      base += coord * stride;
    }
    stride *= index_dim(k);
  }
  var s = 0.0;
  if (inside) {
    for (var j = 0u; j < index_dim(params.dim); j++) {
      let at = base + j * dim_stride;
      if (position(index[at]) == target_pos) { s += grad[at]; }
    }
  }
  dx[i] = s;
}
