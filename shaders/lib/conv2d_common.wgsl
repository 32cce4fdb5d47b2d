// What shaders/conv2d.wgsl and shaders/conv2d_subgroups.wgsl share: the convolution's geometry
// (uniforms), the bindings, and the sub-pixel phases of the input gradient.
struct Params {
  batch: u32,
  in_channels: u32,
  in_h: u32,
  in_w: u32,
  out_channels: u32,
  out_h: u32,
  out_w: u32,
  kernel_h: u32,
  kernel_w: u32,
  stride_h: u32,
  stride_w: u32,
  pad_h: u32,
  pad_w: u32,
  dilation_h: u32,
  dilation_w: u32,
  groups: u32,
  // The product: rows x cols per group (and part), summed over depth. For input_grad, cols and
  // depth are the largest phase's.
  rows: u32,
  cols: u32,
  depth: u32,
  row_tiles: u32,
  col_tiles: u32,
  images_per_split: u32,
  // stride / gcd(stride, dilation): the taps of one input-gradient phase are this far apart.
  tap_step_h: u32,
  tap_step_w: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> dw: array<f32>;

fn taps() -> u32 { return params.kernel_h * params.kernel_w; }
fn in_plane() -> u32 { return params.in_h * params.in_w; }
fn out_plane() -> u32 { return params.out_h * params.out_w; }

// Sub-pixel phases of the input gradient. With stride s, input row iy receives kernel row ky
// from output row (iy + pad − ky·dilation) / s only where that divides exactly, which depends
// on iy mod s alone (its phase). So the rows of one phase, iy = phase + s·i, take the same
// kernel rows, ky = first + j·tap_step (j < count), from output rows oy = i + shift − j·out_step:
// a dense convolution over the phase's rows, with no tap that contributes nothing.
struct PhaseAxis {
  phase: u32,
  // The phase's first kernel row and how many it takes (0: its positions receive nothing).
  first: u32,
  count: u32,
  // Output row of i = 0 at kernel row `first`, and the output rows between its kernel rows.
  shift: i32,
  out_step: i32,
  // Input rows of the phase: phase, phase + s, ... below `size`.
  positions: u32,
}

fn phase_axis(phase: u32, stride: u32, pad: u32, dilation: u32, kernel: u32, tap_step: u32, size: u32) -> PhaseAxis {
  // ky·dilation ≡ phase + pad (mod stride) repeats every tap_step kernel rows.
  let r = (phase + pad) % stride;
  var first = kernel;
  for (var ky = 0u; ky < min(kernel, tap_step); ky++) {
    if ((ky * dilation) % stride == r) {
      first = ky;
      break;
    }
  }
  var count = 0u;
  var shift = 0;
  if (first < kernel) {
    count = (kernel - 1u - first) / tap_step + 1u;
    shift = (i32(phase + pad) - i32(first * dilation)) / i32(stride);
  }
  var positions = 0u;
  if (phase < size) { positions = (size - phase + stride - 1u) / stride; }
  return PhaseAxis(phase, first, count, shift, i32(tap_step * dilation / stride), positions);
}

// The phase (py, px) of part p of an input-gradient dispatch: p = py · stride_w + px.
fn phase_rows(p: u32) -> PhaseAxis {
  return phase_axis(p / params.stride_w, params.stride_h, params.pad_h, params.dilation_h, params.kernel_h, params.tap_step_h, params.in_h);
}

fn phase_cols(p: u32) -> PhaseAxis {
  return phase_axis(p % params.stride_w, params.stride_w, params.pad_w, params.dilation_w, params.kernel_w, params.tap_step_w, params.in_w);
}
