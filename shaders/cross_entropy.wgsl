// Cross-entropy of logits [rows, classes] against class indices (floats holding integers),
// mean over rows. Forward: one workgroup; each thread takes whole rows (an online log-sum-exp,
// one pass over the row) and the per-thread sums meet in a tree reduction, so the mean needs
// no second dispatch and no atomics. Backward: one workgroup per row writes
// dlogits = g · (softmax − onehot) / rows.
// Targets outside [0, classes) are clamped into it (the CPU reference rejects them).
struct Params {
  rows: u32,
  classes: u32,
}

// Threads per workgroup: a power of two (the tree reduction halves it).
override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
// Backward: grad is the gradient of the (0-d) loss.
@group(0) @binding(4) var<storage, read> grad: array<f32>;
@group(0) @binding(5) var<storage, read_write> dlogits: array<f32>;

var<workgroup> partial: array<f32, WG>;

fn class_of(row: u32) -> u32 {
  let c = round(targets[row]);
  return u32(clamp(c, 0.0, f32(params.classes - 1u)));
}

fn reduce(t: u32, v: f32, use_max: bool) {
  partial[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (t < s) {
      partial[t] = select(partial[t] + partial[t + s], max(partial[t], partial[t + s]), use_max);
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  let k = params.classes;
  var total = 0.0;
  for (var r = t; r < params.rows; r += WG) {
    let start = r * k;
    var m = logits[start];
    var s = 1.0;
    for (var j = 1u; j < k; j++) {
      let v = logits[start + j];
      if (v > m) {
        s = s * exp(m - v) + 1.0;
        m = v;
      } else {
        s += exp(v - m);
      }
    }
    total += m + log(s) - logits[start + class_of(r)];
  }
  reduce(t, total, false);
  if (t == 0u) { out[0] = partial[0] / f32(params.rows); }
}

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
            @builtin(local_invocation_index) t: u32) {
  let row = wid.x + wid.y * groups.x;
  if (row >= params.rows) { return; }
  let k = params.classes;
  let start = row * k;
  var m = logits[start];
  for (var j = t; j < k; j += WG) { m = max(m, logits[start + j]); }
  reduce(t, m, true);
  let row_max = partial[0];
  workgroupBarrier();
  var s = 0.0;
  for (var j = t; j < k; j += WG) { s += exp(logits[start + j] - row_max); }
  reduce(t, s, false);
  let total = partial[0];
  let scale = grad[0] / f32(params.rows);
  let hit = class_of(row);
  for (var j = t; j < k; j += WG) {
    let p = exp(logits[start + j] - row_max) / total;
    dlogits[start + j] = scale * (p - select(0.0, 1.0, j == hit));
  }
}
