// Float tests done on the bits. WGSL lets a compiler assume that no NaN or infinity reaches
// float arithmetic, so `v != v` may fold to false and `select(v, 0.0, v < 0.0)` may become
// max(v, 0.0), which turns a NaN into 0 (NVIDIA's Vulkan driver does). Integer operations on
// the bits are kept as written.

// Run-time NaN and infinity: WGSL rejects them in constant expressions.
var<private> nan_bits: u32 = 0x7fc00000u;
var<private> inf_bits: u32 = 0x7f800000u;

fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

// v, or +0 where v is negative (−0 and −inf included); a NaN passes through.
fn zero_if_negative(v: f32) -> f32 {
  let bits = bitcast<u32>(v);
  return bitcast<f32>(select(bits, 0u, bits >= 0x80000000u && bits <= 0xff800000u));
}
