// 2-D max and average pooling over NCHW tensors, read as planes of in_h × in_w (one per
// (n, c)). Windows start at o·stride − pad; padded positions are never read (max pooling pads
// with −inf, average pooling with zeros). The backward passes are gathers without atomics:
// one thread per input element sums over the (at most ⌈kernel/stride⌉²) windows covering it.
//
// Max pooling's backward needs each window's argmax. `max_pool_argmax` re-finds it from the
// saved input when a gradient is asked for (as the window-local offset kh·kernel_w + kw, a
// small integer that a float holds exactly), so the forward stays one dispatch with one output.
struct Params {
  // Threads that do work: output elements (forward, argmax) or input elements (backward).
  n: u32,
  in_h: u32,
  in_w: u32,
  out_h: u32,
  out_w: u32,
  kernel_h: u32,
  kernel_w: u32,
  stride_h: u32,
  stride_w: u32,
  pad_h: u32,
  pad_w: u32,
}

override WG: u32 = 256u;
// Average pooling: divide by the whole window (padding included) or by the positions inside the input.
override COUNT_INCLUDE_PAD: bool = true;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
// Backward: grad has the output's shape, dx the input's; argmax holds window-local offsets.
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read> argmax: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;

// #include "lib/float_bits.wgsl"

// One window along one axis: where it starts in the input, and the part of the kernel inside it.
struct Span {
  start: i32,
  lo: u32,
  hi: u32,
}

fn span(o: u32, stride: u32, pad: u32, kernel: u32, size: u32) -> Span {
  let start = i32(o * stride) - i32(pad);
  let lo = u32(clamp(-start, 0, i32(kernel)));
  let hi = u32(clamp(i32(size) - start, 0, i32(kernel)));
  return Span(start, lo, hi);
}

// Output element i as (plane, row, column).
fn output_position(i: u32) -> vec3u {
  let ow = i % params.out_w;
  let oh = (i / params.out_w) % params.out_h;
  return vec3u(i / (params.out_w * params.out_h), oh, ow);
}

// Input element i as (plane, row, column).
fn input_position(i: u32) -> vec3u {
  let iw = i % params.in_w;
  let ih = (i / params.in_w) % params.in_h;
  return vec3u(i / (params.in_w * params.in_h), ih, iw);
}

// The outputs whose windows cover input position p along one axis: [first, last] (empty when first > last).
fn covering(p: u32, stride: u32, pad: u32, kernel: u32, out_size: u32) -> vec2i {
  let reach = i32(p + pad) - i32(kernel) + 1;
  let first = select(0, (reach + i32(stride) - 1) / i32(stride), reach > 0);
  let last = min(i32((p + pad) / stride), i32(out_size) - 1);
  return vec2i(first, last);
}

struct Best {
  value: f32,
  offset: u32,
}

// PyTorch's rule: scan the window in row-major order, keep the first strictly larger value,
// and let any NaN take over (so the result is NaN and the gradient goes to the last NaN).
// A window of −inf only keeps its first position inside the input.
fn window_max(i: u32) -> Best {
  let p = output_position(i);
  let h = span(p.y, params.stride_h, params.pad_h, params.kernel_h, params.in_h);
  let w = span(p.z, params.stride_w, params.pad_w, params.kernel_w, params.in_w);
  let base = p.x * params.in_h * params.in_w;
  var best = Best(-bitcast<f32>(inf_bits), h.lo * params.kernel_w + w.lo);
  for (var kh = h.lo; kh < h.hi; kh++) {
    let row = base + u32(h.start + i32(kh)) * params.in_w;
    for (var kw = w.lo; kw < w.hi; kw++) {
      let v = x[row + u32(w.start + i32(kw))];
      if (v > best.value || is_nan(v)) {
        best = Best(v, kh * params.kernel_w + kw);
      }
    }
  }
  return best;
}

@compute @workgroup_size(WG)
fn max_pool(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  out[i] = window_max(i).value;
}

@compute @workgroup_size(WG)
fn max_pool_argmax(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  out[i] = f32(window_max(i).offset);
}

@compute @workgroup_size(WG)
fn max_pool_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  let p = input_position(i);
  let rows = covering(p.y, params.stride_h, params.pad_h, params.kernel_h, params.out_h);
  let cols = covering(p.z, params.stride_w, params.pad_w, params.kernel_w, params.out_w);
  let base = p.x * params.out_h * params.out_w;
  var s = 0.0;
  for (var oh = rows.x; oh <= rows.y; oh++) {
    let kh = p.y + params.pad_h - u32(oh) * params.stride_h;
    for (var ow = cols.x; ow <= cols.y; ow++) {
      let kw = p.z + params.pad_w - u32(ow) * params.stride_w;
      let at = base + u32(oh) * params.out_w + u32(ow);
      if (u32(argmax[at]) == kh * params.kernel_w + kw) { s += grad[at]; }
    }
  }
  dx[i] = s;
}

// The divisor of the window of output (oh, ow). Without ceil mode a window never reaches past
// the padding, so counting the padding gives the whole kernel.
fn divisor(oh: u32, ow: u32) -> f32 {
  if (COUNT_INCLUDE_PAD) { return f32(params.kernel_h * params.kernel_w); }
  let h = span(oh, params.stride_h, params.pad_h, params.kernel_h, params.in_h);
  let w = span(ow, params.stride_w, params.pad_w, params.kernel_w, params.in_w);
  return f32((h.hi - h.lo) * (w.hi - w.lo));
}

@compute @workgroup_size(WG)
fn avg_pool(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  let p = output_position(i);
  let h = span(p.y, params.stride_h, params.pad_h, params.kernel_h, params.in_h);
  let w = span(p.z, params.stride_w, params.pad_w, params.kernel_w, params.in_w);
  let base = p.x * params.in_h * params.in_w;
  var s = 0.0;
  for (var kh = h.lo; kh < h.hi; kh++) {
    let row = base + u32(h.start + i32(kh)) * params.in_w;
    for (var kw = w.lo; kw < w.hi; kw++) {
      s += x[row + u32(w.start + i32(kw))];
    }
  }
  out[i] = s / divisor(p.y, p.z);
}

@compute @workgroup_size(WG)
fn avg_pool_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) { return; }
  let p = input_position(i);
  let rows = covering(p.y, params.stride_h, params.pad_h, params.kernel_h, params.out_h);
  let cols = covering(p.z, params.stride_w, params.pad_w, params.kernel_w, params.out_w);
  let base = p.x * params.out_h * params.out_w;
  var s = 0.0;
  for (var oh = rows.x; oh <= rows.y; oh++) {
    for (var ow = cols.x; ow <= cols.y; ow++) {
      s += grad[base + u32(oh) * params.out_w + u32(ow)] / divisor(u32(oh), u32(ow));
    }
  }
  dx[i] = s;
}
