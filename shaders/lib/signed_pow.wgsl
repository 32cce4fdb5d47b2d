// #include "lib/float_bits.wgsl"

// pow with PyTorch's meaning for negative bases and integral exponents.
fn signed_pow(v: f32, e: f32) -> f32 {
  if (e == 0.0) { return 1.0; }
  if (v >= 0.0) { return pow(v, e); }
  if (floor(e) != e) { return bitcast<f32>(nan_bits); }
  let m = pow(-v, e);
  return select(m, -m, (abs(e) % 2.0) == 1.0);
}
