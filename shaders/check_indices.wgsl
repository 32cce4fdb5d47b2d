// Checks that floats meant as indices (class labels, gather positions) are integers in
// [0, limit). The kernels that use them clamp a bad one rather than read out of bounds; this
// pass makes it an error instead: each bad value adds 1 to its check's counter and leaves its
// bits beside it, and the host reads the counters back with the next value it reads anyway,
// so a check never stalls a step. Counters only grow: the host compares them with what it saw.

struct Params {
  n: u32,
  limit: u32,
  // Which counter: flags[2·slot] counts bad values, flags[2·slot + 1] holds one of them.
  slot: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> values: array<f32>;
@group(0) @binding(2) var<storage, read_write> flags: array<atomic<u32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) {
    return;
  }
  let v = values[i];
  // Non-finite values are caught on the bits (a compiler may assume floats are finite).
  let finite = (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
  let ok = finite && v >= 0.0 && v < f32(params.limit) && floor(v) == v;
  if (!ok) {
    atomicAdd(&flags[2u * params.slot], 1u);
    atomicStore(&flags[2u * params.slot + 1u], bitcast<u32>(v));
  }
}
