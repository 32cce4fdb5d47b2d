// Batched matrix product C[b] = op(A[b]) · op(B[b]), op = transpose where TRANS_A / TRANS_B.
// A is stored [M, K] per batch ([K, M] when TRANS_A), B is [K, N] ([N, K] when TRANS_B), C is
// [M, N] contiguous. Each workgroup computes a TILE x TILE block of C: 16 x 16 threads, each
// holding a 4 x 4 block of sums in registers, with K walked in steps of BK through tiles of
// A and B staged in workgroup memory. Batch b = workgroup_id.z is decomposed with the batch
// shape and recomposed with each input's batch strides (0 along broadcast dimensions).
// `main_bias` adds bias[n] to every row as it writes C: a linear layer in one pass.
struct Params {
  M: u32,
  N: u32,
  K: u32,
  batch_rank: u32,
  batch_shape: array<vec4<u32>, 2>,
  a_strides: array<vec4<u32>, 2>,
  b_strides: array<vec4<u32>, 2>,
}

override TRANS_A: bool = false;
override TRANS_B: bool = false;

const THREADS: u32 = 16u;
const PER_THREAD: u32 = 4u;
const TILE: u32 = 64u; // THREADS * PER_THREAD
const BK: u32 = 16u;
const LOADS: u32 = 4u; // TILE * BK / (THREADS * THREADS)

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
// main_bias only: added to every row of C (a linear layer's bias, fused into its product).
@group(0) @binding(4) var<storage, read> bias: array<f32>;

// k-major tiles: tile_a[k][m] and tile_b[k][n], so the inner loop reads along rows.
var<workgroup> tile_a: array<array<f32, TILE>, BK>;
var<workgroup> tile_b: array<array<f32, TILE>, BK>;

fn load_a(base: u32, m: u32, k: u32) -> f32 {
  if (m >= params.M || k >= params.K) { return 0.0; }
  if (TRANS_A) { return a[base + k * params.M + m]; }
  return a[base + m * params.K + k];
}

fn load_b(base: u32, k: u32, n: u32) -> f32 {
  if (k >= params.K || n >= params.N) { return 0.0; }
  if (TRANS_B) { return b[base + n * params.K + k]; }
  return b[base + k * params.N + n];
}

// This thread's PER_THREAD × PER_THREAD block of C for workgroup `wid`.
fn tile_product(wid: vec3u, lid: vec3u, t: u32) -> array<array<f32, PER_THREAD>, PER_THREAD> {
  var rest = wid.z;
  var a_base = 0u;
  var b_base = 0u;
  for (var d = i32(params.batch_rank) - 1; d >= 0; d--) {
    let j = u32(d);
    let size = params.batch_shape[j / 4u][j % 4u];
    let coord = rest % size;
    rest = rest / size;
    a_base += coord * params.a_strides[j / 4u][j % 4u];
    b_base += coord * params.b_strides[j / 4u][j % 4u];
  }
  let row0 = wid.y * TILE;
  let col0 = wid.x * TILE;

  var acc: array<array<f32, PER_THREAD>, PER_THREAD>;
  for (var k0 = 0u; k0 < params.K; k0 += BK) {
    // Consecutive threads load consecutive addresses of whichever layout is in memory.
    for (var s = 0u; s < LOADS; s++) {
      let l = t + s * THREADS * THREADS;
      if (TRANS_A) {
        tile_a[l / TILE][l % TILE] = load_a(a_base, row0 + l % TILE, k0 + l / TILE);
      } else {
        tile_a[l % BK][l / BK] = load_a(a_base, row0 + l / BK, k0 + l % BK);
      }
      if (TRANS_B) {
        tile_b[l % BK][l / BK] = load_b(b_base, k0 + l % BK, col0 + l / BK);
      } else {
        tile_b[l / TILE][l % TILE] = load_b(b_base, k0 + l / TILE, col0 + l % TILE);
      }
    }
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      var av: array<f32, PER_THREAD>;
      var bv: array<f32, PER_THREAD>;
      for (var i = 0u; i < PER_THREAD; i++) {
        av[i] = tile_a[k][lid.y + i * THREADS];
        bv[i] = tile_b[k][lid.x + i * THREADS];
      }
      for (var i = 0u; i < PER_THREAD; i++) {
        for (var j = 0u; j < PER_THREAD; j++) {
          acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        }
      }
    }
    workgroupBarrier();
  }
  return acc;
}

@compute @workgroup_size(THREADS, THREADS)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) t: u32) {
  let acc = tile_product(wid, lid, t);
  let c_base = wid.z * params.M * params.N;
  for (var i = 0u; i < PER_THREAD; i++) {
    let row = wid.y * TILE + lid.y + i * THREADS;
    if (row >= params.M) { break; }
    for (var j = 0u; j < PER_THREAD; j++) {
      let col = wid.x * TILE + lid.x + j * THREADS;
      if (col < params.N) { out[c_base + row * params.N + col] = acc[i][j]; }
    }
  }
}

@compute @workgroup_size(THREADS, THREADS)
fn main_bias(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
             @builtin(local_invocation_index) t: u32) {
  let acc = tile_product(wid, lid, t);
  let c_base = wid.z * params.M * params.N;
  for (var i = 0u; i < PER_THREAD; i++) {
    let row = wid.y * TILE + lid.y + i * THREADS;
    if (row >= params.M) { break; }
    for (var j = 0u; j < PER_THREAD; j++) {
      let col = wid.x * TILE + lid.x + j * THREADS;
      if (col < params.N) { out[c_base + row * params.N + col] = acc[i][j] + bias[col]; }
    }
  }
}
