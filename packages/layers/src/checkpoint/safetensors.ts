// The safetensors file format (Hugging Face): an 8-byte little-endian header length N, N bytes of
// UTF-8 JSON describing each tensor (dtype, shape, data_offsets into the data buffer), then the
// data buffer, which the tensors cover exactly. Read and written here without a library.
import { decodeToFloat32, DTYPE_SIZES, HOST_IS_LITTLE_ENDIAN, isSafetensorsDtype, type SafetensorsDtype } from './dtypes.ts';

export type { SafetensorsDtype } from './dtypes.ts';

/** A tensor read from a safetensors file, its values converted to float32 (row-major). */
export interface SafetensorsTensor {
  /** The dtype stored in the file. */
  readonly dtype: SafetensorsDtype;
  readonly shape: number[];
  readonly data: Float32Array;
}

/** The contents of a safetensors file. */
export interface SafetensorsFile {
  /** Tensors by name, in the header's order. */
  readonly tensors: Map<string, SafetensorsTensor>;
  /** The header's `__metadata__` (empty when absent). */
  readonly metadata: Record<string, string>;
}

export interface ParseSafetensorsOptions {
  /** Largest header accepted, in bytes (default 100 MiB): a corrupt length must not allocate gigabytes. */
  maxHeaderBytes?: number;
}

/** A tensor to write: float32 values, stored as F32 or (integral values) as I64. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: 'F32' | 'I64';
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

const METADATA_KEY = '__metadata__';

function fail(message: string): never {
  throw new Error(`safetensors: ${message}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : JSON.stringify(v) ?? String(v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Size and placement of one tensor, before its bytes are read. */
interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

function readHeader(bytes: Uint8Array, maxHeaderBytes: number): { header: Record<string, unknown>; dataStart: number } {
  if (!(bytes instanceof Uint8Array)) fail(`expected the file's bytes as a Uint8Array, got ${describe(bytes)}`);
  if (bytes.length < 8) fail(`file of ${bytes.length} bytes is too short to hold the 8-byte header length`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(maxHeaderBytes)) fail(`header of ${length} bytes exceeds the limit of ${maxHeaderBytes}`);
  const n = Number(length);
  if (8 + n > bytes.length) {
    fail(`header of ${n} bytes runs past the end of the file (${bytes.length} bytes, ${8 + n - bytes.length} missing): the file is truncated`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) fail(`header must be a JSON object of tensors, got ${describe(header)}`);
  return { header, dataStart: 8 + n };
}

function readMetadata(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) fail(`"${METADATA_KEY}" must be an object of strings, got ${describe(value)}`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`"${METADATA_KEY}" value "${k}" must be a string, got ${describe(v)}`);
  }
  // fromEntries defines own properties, so a key like "__proto__" stays a key.
  return Object.fromEntries(Object.entries(value)) as Record<string, string>;
}

function readInfo(name: string, value: unknown): TensorInfo {
  const where = `tensor "${name}"`;
  if (!isPlainObject(value)) fail(`${where}: expected {dtype, shape, data_offsets}, got ${describe(value)}`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (!isSafetensorsDtype(dtype)) fail(`${where}: unknown dtype ${describe(dtype)} (supported: ${Object.keys(DTYPE_SIZES).join(', ')})`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`${where}: bad shape ${JSON.stringify(shape) ?? 'undefined'}: expected an array of non-negative integers`);
  }
  const okOffsets = Array.isArray(offsets) && offsets.length === 2 && offsets.every((o) => Number.isSafeInteger(o) && o >= 0) && offsets[0] <= offsets[1];
  if (!okOffsets) fail(`${where}: data_offsets must be [begin, end] integers with 0 <= begin <= end, got ${JSON.stringify(offsets) ?? 'undefined'}`);
  const [begin, end] = offsets as [number, number];
  const numel = (shape as number[]).reduce((a, d) => a * d, 1);
  const expected = numel * DTYPE_SIZES[dtype];
  if (end - begin !== expected) {
    fail(`${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${dtype} of shape [${(shape as number[]).join(', ')}] needs ${expected}`);
  }
  return { name, dtype, shape: [...(shape as number[])], begin, end };
}

/** The tensors must tile the data buffer: sorted by offset, each starts where the previous ended. */
function checkLayout(infos: TensorInfo[], bufferBytes: number): void {
  const lastEnd = infos.reduce((m, t) => Math.max(m, t.end), 0);
  const late = infos.find((t) => t.end > bufferBytes);
  if (late) {
    fail(`tensor "${late.name}": data_offsets [${late.begin}, ${late.end}] run past the end of the data buffer (${bufferBytes} bytes): the file is truncated, ${lastEnd - bufferBytes} bytes missing`);
  }
  const sorted = [...infos].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let previous: TensorInfo | null = null;
  for (const t of sorted) {
    if (t.begin < at) fail(`tensors "${previous!.name}" [${previous!.begin}, ${previous!.end}] and "${t.name}" [${t.begin}, ${t.end}] overlap in the data buffer`);
    if (t.begin > at) fail(`bytes [${at}, ${t.begin}) of the data buffer belong to no tensor (a hole before "${t.name}")`);
    at = t.end;
    previous = t;
  }
  if (at < bufferBytes) fail(`bytes [${at}, ${bufferBytes}) of the data buffer belong to no tensor (a hole at the end)`);
}

/**
 * Reads a safetensors file. Values of every supported dtype are converted to float32 (F32, F16
 * and BF16 exactly; F64 and integers beyond 2^24 rounded). Throws a message naming the problem and
 * the tensor for a truncated or corrupt file; nothing is returned unless the whole file is valid.
 */
export function parseSafetensors(bytes: Uint8Array, { maxHeaderBytes = 100 * 1024 * 1024 }: ParseSafetensorsOptions = {}): SafetensorsFile {
  if (!Number.isSafeInteger(maxHeaderBytes) || maxHeaderBytes < 0) fail(`maxHeaderBytes must be a non-negative integer, got ${maxHeaderBytes}`);
  const { header, dataStart } = readHeader(bytes, maxHeaderBytes);
  const metadata = readMetadata(header[METADATA_KEY]);
  const infos = Object.entries(header)
    .filter(([name]) => name !== METADATA_KEY)
    .map(([name, value]) => readInfo(name, value));
  checkLayout(infos, bytes.length - dataStart);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const t of infos) {
    const count = (t.end - t.begin) / DTYPE_SIZES[t.dtype];
    tensors.set(t.name, { dtype: t.dtype, shape: t.shape, data: decodeToFloat32(bytes, dataStart + t.begin, count, t.dtype) });
  }
  return { tensors, metadata };
}

function checkEntry(e: SafetensorsEntry, seen: Set<string>): void {
  const where = `serializeSafetensors: tensor ${JSON.stringify(e?.name)}`;
  if (typeof e?.name !== 'string' || e.name === '' || e.name === METADATA_KEY) throw new Error(`${where}: name must be a non-empty string other than "${METADATA_KEY}"`);
  if (seen.has(e.name)) throw new Error(`${where}: name given twice`);
  seen.add(e.name);
  if (e.dtype !== 'F32' && e.dtype !== 'I64') throw new Error(`${where}: dtype must be "F32" or "I64", got ${describe(e.dtype)}`);
  if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`${where}: bad shape ${JSON.stringify(e.shape)}: expected an array of non-negative integers`);
  }
  const numel = e.shape.reduce((a, d) => a * d, 1);
  if (!(e.data instanceof Float32Array) || e.data.length !== numel) {
    throw new Error(`${where}: expected a Float32Array of ${numel} values for shape [${e.shape.join(', ')}], got ${e.data instanceof Float32Array ? `${e.data.length} values` : describe(e.data)}`);
  }
  if (e.dtype === 'I64') {
    const bad = e.data.findIndex((v) => !Number.isInteger(v));
    if (bad >= 0) throw new Error(`${where}: I64 needs integral values, got ${e.data[bad]} at index ${bad}`);
  }
}

function writeData(out: Uint8Array, at: number, e: SafetensorsEntry): void {
  if (e.dtype === 'F32' && HOST_IS_LITTLE_ENDIAN) {
    out.set(new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength), at);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset + at, e.data.length * (e.dtype === 'F32' ? 4 : 8));
  if (e.dtype === 'F32') {
    const bits = new Uint32Array(e.data.buffer, e.data.byteOffset, e.data.length);
    for (let i = 0; i < bits.length; i++) view.setUint32(i * 4, bits[i], true);
  } else {
    for (let i = 0; i < e.data.length; i++) view.setBigInt64(i * 8, BigInt(e.data[i]), true);
  }
}

/**
 * Writes tensors as a safetensors file, in the given order, with optional string metadata. F32
 * values are written bit-exactly; I64 from integral float values. The header is padded with
 * spaces to a multiple of 8 bytes, as Hugging Face's writer does, so the data stays aligned.
 */
export function serializeSafetensors(tensors: readonly SafetensorsEntry[], metadata?: Record<string, string>): Uint8Array {
  if (!Array.isArray(tensors)) throw new Error(`serializeSafetensors: expected an array of tensors, got ${describe(tensors)}`);
  const seen = new Set<string>();
  for (const e of tensors) checkEntry(e, seen);
  // Built by hand so that names like "0" or "__proto__" keep their place and meaning.
  const parts: string[] = [];
  if (metadata !== undefined) {
    if (!isPlainObject(metadata)) throw new Error(`serializeSafetensors: metadata must be an object of strings, got ${describe(metadata)}`);
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`serializeSafetensors: metadata "${k}" must be a string, got ${describe(v)}`);
    }
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${Object.entries(metadata).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  }
  let offset = 0;
  const placed = tensors.map((e) => {
    const begin = offset;
    offset += e.data.length * (e.dtype === 'F32' ? 4 : 8);
    parts.push(`${JSON.stringify(e.name)}:${JSON.stringify({ dtype: e.dtype, shape: [...e.shape], data_offsets: [begin, offset] })}`);
    return begin;
  });
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerBytes = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerBytes + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerBytes);
  tensors.forEach((e, i) => writeData(out, 8 + headerBytes + placed[i], e));
  return out;
}
