// Optimizer updates, in place, with PyTorch's algorithms (torch.optim.SGD, Adam, AdamW). Each
// algorithm's arithmetic is one function below, run by two kinds of entry point:
// - per parameter (`sgd`, `sgd_momentum`, `adam`): one dispatch updates one parameter and its
//   state (momentum buffer, or Adam's first and second moments), hyperparameters in uniforms;
// - over every parameter at once (`*_flat`): the parameters, their gradients and each kind of
//   state lie in one buffer each, laid out alike, and `chunks` lists the pieces to update, one
//   workgroup per piece (PyTorch's multi-tensor "foreach" apply). The hyperparameters are read
//   from a small storage buffer that the host rewrites when they change (a learning-rate
//   schedule), so the bindings stay the same from step to step.
// Adam's step count lives on the GPU, one f32 per parameter (exact up to 2^24 steps), advanced
// by `advance_step` before the updates read it, so that nothing the host writes changes per step.

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

// The hyperparameters of the flat entry points, as the host writes them (all f32, in order).
struct SgdHyper {
  lr: f32,
  weight_decay: f32,
  momentum: f32,
  dampening: f32,
}

struct AdamHyper {
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  weight_decay: f32,
  decay: f32,
}

// A piece of one parameter for one workgroup of a flat entry point: elements
// [start, start + count) of the flat buffers belong to the parameter in `slot`.
struct Chunk {
  start: u32,
  count: u32,
  slot: u32,
  flags: u32,
}

// Chunk.flags: the parameter has a gradient this step; its momentum buffer starts now.
const CHUNK_ACTIVE = 1u;
const CHUNK_FIRST_STEP = 2u;

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
@group(0) @binding(6) var<storage, read> chunks: array<Chunk>;
@group(0) @binding(7) var<storage, read> sgd_hyper: SgdHyper;
@group(0) @binding(7) var<storage, read> adam_hyper: AdamHyper;

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WG;
}

// g + wd·p: the gradient with the L2 penalty.
fn decayed_gradient(g: f32, p: f32, weight_decay: f32) -> f32 {
  if (weight_decay != 0.0) { return g + weight_decay * p; }
  return g;
}

// p − lr·(g + wd·p)
fn sgd_update(p: f32, g: f32, lr: f32, weight_decay: f32) -> f32 {
  return p - lr * decayed_gradient(g, p, weight_decay);
}

struct MomentumStep {
  param: f32,
  buffer: f32,
}

// b ← g on the first step, else momentum·b + (1 − dampening)·g; the step direction is
// g + momentum·b with Nesterov, else b.
fn sgd_momentum_update(p: f32, grad: f32, b: f32, h: SgdHyper, first: bool) -> MomentumStep {
  let g = decayed_gradient(grad, p, h.weight_decay);
  var buffer = g;
  if (!first) { buffer = h.momentum * b + (1.0 - h.dampening) * g; }
  let direction = select(buffer, g + h.momentum * buffer, NESTEROV);
  return MomentumStep(p - h.lr * direction, buffer);
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

struct AdamStep {
  param: f32,
  exp_avg: f32,
  exp_avg_sq: f32,
}

// m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g², p ← p − lr/(1 − β1^t) · m / (√v/√(1 − β2^t) + ε),
// with g += wd·p first (Adam) or p ← p·(1 − lr·wd) first (AdamW: `decay`).
fn adam_update(param: f32, grad: f32, exp_avg: f32, exp_avg_sq: f32, h: AdamHyper, t: u32) -> AdamStep {
  let g = decayed_gradient(grad, param, h.weight_decay);
  let p = param * h.decay;
  let m = h.beta1 * exp_avg + (1.0 - h.beta1) * g;
  let v = h.beta2 * exp_avg_sq + (1.0 - h.beta2) * g * g;
  let step_size = h.lr / (1.0 - pow_steps(h.beta1, t));
  let denom = sqrt(v) / sqrt(1.0 - pow_steps(h.beta2, t)) + h.eps;
  return AdamStep(p - step_size * m / denom, m, v);
}

@compute @workgroup_size(WG)
fn sgd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= sgd_params.n) { return; }
  param[i] = sgd_update(param[i], grad[i], sgd_params.lr, sgd_params.weight_decay);
}

@compute @workgroup_size(WG)
fn sgd_momentum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  let u = sgd_momentum_params;
  if (i >= u.n) { return; }
  let h = SgdHyper(u.lr, u.weight_decay, u.momentum, u.dampening);
  let s = sgd_momentum_update(param[i], grad[i], momentum_buffer[i], h, u.first != 0u);
  momentum_buffer[i] = s.buffer;
  param[i] = s.param;
}

@compute @workgroup_size(WG)
fn adam(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  let u = adam_params;
  if (i >= u.n) { return; }
  let h = AdamHyper(u.lr, u.beta1, u.beta2, u.eps, u.weight_decay, u.decay);
  let s = adam_update(param[i], grad[i], exp_avg[i], exp_avg_sq[i], h, u32(step_counts[u.slot]));
  exp_avg[i] = s.exp_avg;
  exp_avg_sq[i] = s.exp_avg_sq;
  param[i] = s.param;
}

// The chunk this workgroup updates; its `count` is 0 when there is none (the grid's padding)
// or its parameter has no gradient this step.
fn chunk_of(wid: vec3u, groups: vec3u) -> Chunk {
  let c = wid.x + wid.y * groups.x;
  if (c >= arrayLength(&chunks)) { return Chunk(0u, 0u, 0u, 0u); }
  let chunk = chunks[c];
  if ((chunk.flags & CHUNK_ACTIVE) == 0u) { return Chunk(0u, 0u, 0u, 0u); }
  return chunk;
}

@compute @workgroup_size(WG)
fn sgd_flat(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let chunk = chunk_of(wid, groups);
  let h = sgd_hyper;
  for (var i = chunk.start + lid; i < chunk.start + chunk.count; i += WG) {
    param[i] = sgd_update(param[i], grad[i], h.lr, h.weight_decay);
  }
}

@compute @workgroup_size(WG)
fn sgd_momentum_flat(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let chunk = chunk_of(wid, groups);
  let h = sgd_hyper;
  let first = (chunk.flags & CHUNK_FIRST_STEP) != 0u;
  for (var i = chunk.start + lid; i < chunk.start + chunk.count; i += WG) {
    let s = sgd_momentum_update(param[i], grad[i], momentum_buffer[i], h, first);
    momentum_buffer[i] = s.buffer;
    param[i] = s.param;
  }
}

@compute @workgroup_size(WG)
fn adam_flat(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let chunk = chunk_of(wid, groups);
  let h = adam_hyper;
  let t = u32(step_counts[chunk.slot]);
  for (var i = chunk.start + lid; i < chunk.start + chunk.count; i += WG) {
    let s = adam_update(param[i], grad[i], exp_avg[i], exp_avg_sq[i], h, t);
    exp_avg[i] = s.exp_avg;
    exp_avg_sq[i] = s.exp_avg_sq;
    param[i] = s.param;
  }
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
