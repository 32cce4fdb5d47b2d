// Optimizer updates, in place: one dispatch per parameter updates the parameter and its
// state (momentum buffer, or Adam's first and second moments) together, with PyTorch's
// algorithms (torch.optim.SGD, Adam, AdamW). Adam's step count lives on the GPU, one f32 per
// parameter (exact up to 2^24 steps), advanced by `advance_step` before the updates read it,
// so that the uniforms stay constant from step to step.

struct SgdParams {
  n: u32,
  lr: f32,
  weight_decay: f32,
}

struct SgdMomentumParams {
  n: u32,
  lr: f32,
  weight_decay: f32,
  momentum: f32,
  dampening: f32,
  // 1 on the step that creates the momentum buffer: it starts as the gradient.
  first: u32,
}

struct AdamParams {
  n: u32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  // L2 penalty added to the gradient (Adam).
  weight_decay: f32,
  // Factor the parameter is multiplied by before the update: 1 - lr * weight_decay (AdamW), or 1.
  decay: f32,
  // Which entry of `step_counts` is this parameter's.
  slot: u32,
}

struct StepParams {
  first_slot: u32,
  count: u32,
  // Bit i set: the parameter in slot first_slot + i takes a step now (it has a gradient).
  mask: array<vec4<u32>, 2>,
}

override WG: u32 = 256u;
override NESTEROV: bool = false;

@group(0) @binding(0) var<uniform> sgd_params: SgdParams;
@group(0) @binding(0) var<uniform> sgd_momentum_params: SgdMomentumParams;
@group(0) @binding(0) var<uniform> adam_params: AdamParams;
@group(0) @binding(0) var<uniform> step_params: StepParams;

@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> momentum_buffer: array<f32>;
@group(0) @binding(3) var<storage, read_write> exp_avg: array<f32>;
@group(0) @binding(4) var<storage, read_write> exp_avg_sq: array<f32>;
@group(0) @binding(5) var<storage, read> step_counts: array<f32>;
@group(0) @binding(1) var<storage, read_write> steps: array<f32>;

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WG;
}

// p ← p − lr·(g + wd·p)
@compute @workgroup_size(WG)
fn sgd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= sgd_params.n) { return; }
  let p = param[i];
  var g = grad[i];
  if (sgd_params.weight_decay != 0.0) { g += sgd_params.weight_decay * p; }
  param[i] = p - sgd_params.lr * g;
}

// b ← g on the first step, else momentum·b + (1 − dampening)·g; the step direction is
// g + momentum·b with Nesterov, else b.
@compute @workgroup_size(WG)
fn sgd_momentum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  let u = sgd_momentum_params;
  if (i >= u.n) { return; }
  let p = param[i];
  var g = grad[i];
  if (u.weight_decay != 0.0) { g += u.weight_decay * p; }
  var b = g;
  if (u.first == 0u) { b = u.momentum * momentum_buffer[i] + (1.0 - u.dampening) * g; }
  momentum_buffer[i] = b;
  let direction = select(b, g + u.momentum * b, NESTEROV);
  param[i] = p - u.lr * direction;
}

// beta^t by repeated squaring: exact for t = 1 and far more accurate than exp2(t·log2(beta))
// when 1 − beta^t is small (beta2 = 0.999 in the first steps).
fn pow_steps(beta: f32, t: u32) -> f32 {
  var result = 1.0;
  var base = beta;
  var e = t;
  loop {
    if (e == 0u) { break; }
    if ((e & 1u) == 1u) { result *= base; }
    base *= base;
    e = e >> 1u;
  }
  return result;
}

// m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g², p ← p − lr/(1 − β1^t) · m / (√v/√(1 − β2^t) + ε),
// with g += wd·p first (Adam) or p ← p·(1 − lr·wd) first (AdamW).
@compute @workgroup_size(WG)
fn adam(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  let u = adam_params;
  if (i >= u.n) { return; }
  let t = u32(step_counts[u.slot]);
  var p = param[i];
  var g = grad[i];
  if (u.weight_decay != 0.0) { g += u.weight_decay * p; }
  p *= u.decay;
  let m = u.beta1 * exp_avg[i] + (1.0 - u.beta1) * g;
  let v = u.beta2 * exp_avg_sq[i] + (1.0 - u.beta2) * g * g;
  exp_avg[i] = m;
  exp_avg_sq[i] = v;
  let step_size = u.lr / (1.0 - pow_steps(u.beta1, t));
  let denom = sqrt(v) / sqrt(1.0 - pow_steps(u.beta2, t)) + u.eps;
  param[i] = p - step_size * m / denom;
}

// steps[first_slot + i] += 1 for each active bit i.
@compute @workgroup_size(WG)
fn advance_step(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= step_params.count) { return; }
  let word = step_params.mask[i / 128u][(i / 32u) % 4u];
  if (((word >> (i % 32u)) & 1u) == 1u) {
    let slot = step_params.first_slot + i;
    steps[slot] = steps[slot] + 1.0;
  }
}
