// The strided walk of a reduction without a permute copy, for kernels whose `params` uniform
// has kept_rank, kept_shape, kept_strides, reduced_rank, reduced_shape and reduced_strides:
// an output's first input element sits at the offset of its kept coordinates, and its
// reduced elements are walked with a `Cursor` (below) over the reduced dims' shape and strides.
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

// A walk over a reduction's elements r = first, first + step, ... that decomposes r into dims
// only when it leaves a row of the innermost reduced dim: within a row, elements are `stride`
// apart and the next offset is one multiply-add, with no division per element.
struct Cursor {
  // The flat reduced index, and its column within the current row.
  r: u32,
  col: u32,
  // Offset of the current row's first element (relative to the output's first element).
  row_base: u32,
  // Length and stride of the innermost reduced dim.
  inner: u32,
  stride: u32,
}

// Offset of row `row` of the innermost reduced dim: `row` decomposed over the other reduced dims.
fn row_offset(row: u32) -> u32 {
  var rest = row;
  var off = 0u;
  for (var d = i32(params.reduced_rank) - 2; d >= 0; d--) {
    let k = u32(d);
    let size = params.reduced_shape[k / 4u][k % 4u];
    off += (rest % size) * params.reduced_strides[k / 4u][k % 4u];
    rest = rest / size;
  }
  return off;
}

fn cursor_at(r: u32) -> Cursor {
  var inner = 1u;
  var stride = 0u;
  if (params.reduced_rank > 0u) {
    let k = params.reduced_rank - 1u;
    inner = params.reduced_shape[k / 4u][k % 4u];
    stride = params.reduced_strides[k / 4u][k % 4u];
  }
  let row = r / inner;
  return Cursor(r, r - row * inner, row_offset(row), inner, stride);
}

fn cursor_offset(c: Cursor) -> u32 {
  return c.row_base + c.col * c.stride;
}

fn cursor_advance(c: Cursor, step: u32) -> Cursor {
  var next = c;
  next.r += step;
  next.col += step;
  if (next.col >= next.inner) {
    let row = next.r / next.inner;
    next.col = next.r - row * next.inner;
    next.row_base = row_offset(row);
  }
  return next;
}
