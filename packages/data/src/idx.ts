// The IDX format of the MNIST family (yann.lecun.com/exdb/mnist): two zero bytes, a type byte,
// a dimension count, then each dimension as a big-endian uint32, then the values row-major.
// Parsing only; reading and gunzipping files lives in node/idx_file.ts.

/** An IDX array of unsigned bytes: its dimensions and its values (a view, not a copy). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = { 0x08: 'uint8', 0x09: 'int8', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };

/**
 * Parses an IDX buffer of unsigned bytes (type 0x08, what MNIST and Fashion-MNIST use). `what`
 * names the source in error messages. Throws on a bad magic number, another value type, or a
 * length that disagrees with the dimensions.
 */
export function parseIdx(bytes: Uint8Array, what = 'IDX data'): IdxArray {
  if (bytes.length < 4) throw new Error(`parseIdx: ${what} has ${bytes.length} bytes, too short for the 4-byte IDX magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const type = bytes[2];
  const rank = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0 || !(type in TYPE_NAMES)) {
    throw new Error(`parseIdx: ${what} has magic number 0x${magic.toString(16).padStart(8, '0')}, not an IDX file (expected 0x000008NN for NN dimensions of uint8)`);
  }
  if (type !== 0x08) {
    throw new Error(`parseIdx: ${what} holds ${TYPE_NAMES[type]} values (type 0x${type.toString(16).padStart(2, '0')}); only uint8 (0x08) is supported`);
  }
  const header = 4 + 4 * rank;
  if (bytes.length < header) throw new Error(`parseIdx: ${what} declares ${rank} dimensions but has only ${bytes.length} bytes`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== header + size) {
    throw new Error(`parseIdx: ${what} has dimensions [${dims.join(', ')}] (${size} values) but ${bytes.length - header} data bytes`);
  }
  return { dims, data: bytes.subarray(header) };
}
