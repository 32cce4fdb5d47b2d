// The strided walk of a reduction without a permute copy, for kernels whose `params` uniform
// has kept_rank, kept_shape, kept_strides, reduced_rank, reduced_shape and reduced_strides:
// an output's first input element sits at the offset of its kept coordinates, and its
// reduced elements at the offsets of a flat index decomposed with the reduced dims' shape.
fn kept_offset(o: u32) -> u32 {
  var rest = o;
  var off = 0u;
  for (var d = i32(params.kept_rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let size = params.kept_shape[k / 4u][k % 4u];
    off += (rest % size) * params.kept_strides[k / 4u][k % 4u];
    rest = rest / size;
  }
  return off;
}

fn reduced_offset(r: u32) -> u32 {
  var rest = r;
  var off = 0u;
  for (var d = i32(params.reduced_rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let size = params.reduced_shape[k / 4u][k % 4u];
    off += (rest % size) * params.reduced_strides[k / 4u][k % 4u];
    rest = rest / size;
  }
  return off;
}
