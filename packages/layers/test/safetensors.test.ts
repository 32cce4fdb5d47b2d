import { describe, expect, it } from 'vitest';
import { parseSafetensors, serializeSafetensors, type SafetensorsEntry } from '../src/checkpoint/index.ts';
import { readFixture, readFixtureBytes } from './helpers.ts';

/** Float32 values from their bit patterns, so NaN payloads and -0 are exact. */
function fromBits(bits: number[]): Float32Array {
  return new Float32Array(Uint32Array.from(bits).buffer);
}

function bitsOf(a: Float32Array): number[] {
  return [...new Uint32Array(a.buffer, a.byteOffset, a.length)];
}

/** A file with this header text (padded to 8 bytes) and data buffer, for corrupt-header cases. */
function fileWith(header: string | object, data: Uint8Array | number = 0): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const n = Math.ceil(json.length / 8) * 8;
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + n + body.length).fill(0x20, 8, 8 + n);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.set(body, 8 + n);
  return out;
}

function headerLength(bytes: Uint8Array): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
}

function headerOf(bytes: Uint8Array): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength(bytes)))) as Record<string, unknown>;
}

const f32 = (shape: number[], offsets: [number, number]) => ({ dtype: 'F32', shape, data_offsets: offsets });

describe('serializeSafetensors / parseSafetensors round trip', () => {
  it('keeps F32 bit-exact: -0, NaN payloads, denormals, infinities, an odd count', () => {
    const special = fromBits([
      0x00000000, 0x80000000, // ±0
      0x7f800000, 0xff800000, // ±Infinity
      0x7fc00000, 0x7fc01234, 0xffc00001, 0x7f800001, // NaNs with payloads, one signalling
      0x00000001, 0x807fffff, 0x00400000, // denormals
      0x7f7fffff, 0x3eaaaaab, // largest finite, 1/3
    ]);
    const odd = Float32Array.from([1.5, -2.25, 3e-8, 7, 1e30, -0.1, 42]);
    const bytes = serializeSafetensors([
      { name: 'special', dtype: 'F32', shape: [special.length], data: special },
      { name: 'odd', dtype: 'F32', shape: [7, 1], data: odd },
    ]);
    const { tensors, metadata } = parseSafetensors(bytes);
    expect([...tensors.keys()]).toEqual(['special', 'odd']);
    expect(metadata).toEqual({});
    expect(tensors.get('special')!.dtype).toBe('F32');
    expect(tensors.get('special')!.shape).toEqual([13]);
    expect(bitsOf(tensors.get('special')!.data)).toEqual(bitsOf(special));
    expect(tensors.get('odd')!.shape).toEqual([7, 1]);
    expect(bitsOf(tensors.get('odd')!.data)).toEqual(bitsOf(odd));
  });

  it('writes I64 as little-endian int64 and reads it back', () => {
    const values = Float32Array.from([0, -1, 5, 2 ** 24, -(2 ** 31), 2 ** 40, -(2 ** 60)]);
    const bytes = serializeSafetensors([{ name: 'count', dtype: 'I64', shape: [values.length], data: values }]);
    const dataStart = 8 + headerLength(bytes);
    const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart);
    expect(values.length * 8).toBe(bytes.length - dataStart);
    for (let i = 0; i < values.length; i++) expect(view.getBigInt64(i * 8, true)).toBe(BigInt(values[i]));
    const t = parseSafetensors(bytes).tensors.get('count')!;
    expect(t.dtype).toBe('I64');
    expect([...t.data]).toEqual([...values]);
  });

  it('handles empty tensors, shape [] scalars, metadata and awkward names', () => {
    const entries: SafetensorsEntry[] = [
      { name: 'empty', dtype: 'F32', shape: [2, 0, 3], data: new Float32Array(0) },
      { name: 'scalar', dtype: 'F32', shape: [], data: Float32Array.of(-0) },
      { name: 'steps', dtype: 'I64', shape: [], data: Float32Array.of(17) },
      { name: 'none', dtype: 'I64', shape: [0], data: new Float32Array(0) },
      { name: '0', dtype: 'F32', shape: [1], data: Float32Array.of(3) },
      { name: '__proto__', dtype: 'F32', shape: [1], data: Float32Array.of(4) },
      { name: 'ünï', dtype: 'F32', shape: [1], data: Float32Array.of(5) },
    ];
    const bytes = serializeSafetensors(entries, { format: 'pt', note: 'é "quoted"', __proto__x: '' });
    const { tensors, metadata } = parseSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt', note: 'é "quoted"', __proto__x: '' });
    for (const e of entries) {
      const t = tensors.get(e.name)!;
      expect(t, e.name).toBeDefined();
      expect(t.dtype).toBe(e.dtype);
      expect(t.shape).toEqual(e.shape);
      expect(bitsOf(t.data)).toEqual(bitsOf(e.data));
    }
    expect(Object.is(tensors.get('scalar')!.data[0], -0)).toBe(true);
  });

  it('pads the header with spaces to a multiple of 8 and tiles the data buffer in order', () => {
    const bytes = serializeSafetensors([
      { name: 'a', dtype: 'F32', shape: [3], data: Float32Array.of(1, 2, 3) },
      { name: 'b', dtype: 'I64', shape: [], data: Float32Array.of(9) },
    ]);
    const n = headerLength(bytes);
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd().endsWith('}')).toBe(true);
    expect(/^ *$/.test(text.slice(text.trimEnd().length))).toBe(true);
    expect(headerOf(bytes)).toEqual({
      a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
      b: { dtype: 'I64', shape: [], data_offsets: [12, 20] },
    });
    expect(bytes.length).toBe(8 + n + 20);
  });

  it('rejects what it cannot write, naming the tensor', () => {
    const one = Float32Array.of(1);
    expect(() => serializeSafetensors([{ name: 'x', dtype: 'F32', shape: [2], data: one }])).toThrow(/tensor "x": expected a Float32Array of 2 values for shape \[2\], got 1 values/);
    expect(() => serializeSafetensors([{ name: 'n', dtype: 'I64', shape: [2], data: Float32Array.of(1, 2.5) }])).toThrow(/tensor "n": I64 needs integral values, got 2.5 at index 1/);
    expect(() => serializeSafetensors([{ name: 'n', dtype: 'I64', shape: [1], data: Float32Array.of(NaN) }])).toThrow(/I64 needs integral values, got NaN/);
    expect(() => serializeSafetensors([{ name: 'x', dtype: 'F32', shape: [1], data: one }, { name: 'x', dtype: 'F32', shape: [1], data: one }])).toThrow(/tensor "x": name given twice/);
    expect(() => serializeSafetensors([{ name: '__metadata__', dtype: 'F32', shape: [1], data: one }])).toThrow(/name must be a non-empty string other than "__metadata__"/);
    expect(() => serializeSafetensors([{ name: 'x', dtype: 'F16' as 'F32', shape: [1], data: one }])).toThrow(/tensor "x": dtype must be "F32" or "I64", got "F16"/);
    expect(() => serializeSafetensors([{ name: 'x', dtype: 'F32', shape: [-1], data: one }])).toThrow(/tensor "x": bad shape \[-1\]/);
    expect(() => serializeSafetensors([], { format: 3 as unknown as string })).toThrow(/metadata "format" must be a string, got 3/);
  });
});

type FixtureValue = number | 'NaN' | 'Infinity' | '-Infinity';
interface DtypeFixture {
  metadata: Record<string, string>;
  tensors: Record<string, { dtype: string; shape: number[]; data: FixtureValue[] }>;
}

describe('parseSafetensors on a file written by Python', () => {
  it('reads F32, F64, F16, BF16, I64, I32 and U8 as PyTorch converts them to float32', () => {
    const want = readFixture<DtypeFixture>('format_dtypes.json');
    const { tensors, metadata } = parseSafetensors(readFixtureBytes('format_dtypes.safetensors'));
    expect(metadata).toEqual(want.metadata);
    expect([...tensors.keys()].sort()).toEqual(Object.keys(want.tensors).sort());
    const dtypes = new Set<string>();
    for (const [name, w] of Object.entries(want.tensors)) {
      const t = tensors.get(name)!;
      dtypes.add(t.dtype);
      expect(t.dtype, name).toBe(w.dtype);
      expect(t.shape, name).toEqual(w.shape);
      expect(t.data.length, name).toBe(w.data.length);
      w.data.forEach((v, i) => {
        const expected = typeof v === 'number' ? Math.fround(v) : Number(v);
        // Object.is: -0 and NaN must match exactly, not just compare equal.
        expect(Object.is(t.data[i], expected), `${name}[${i}]: got ${t.data[i]}, want ${expected}`).toBe(true);
      });
    }
    expect([...dtypes].sort()).toEqual(['BF16', 'F16', 'F32', 'F64', 'I32', 'I64', 'U8']);
  });
});

describe('parseSafetensors rejects corrupt files', () => {
  const valid = serializeSafetensors([
    { name: 'w', dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
    { name: 'n', dtype: 'I64', shape: [], data: Float32Array.of(3) },
  ], { format: 'pt' });
  const n = headerLength(valid);
  const dataBytes = valid.length - 8 - n;

  it('parses the uncorrupted file', () => {
    expect([...parseSafetensors(valid).tensors.keys()]).toEqual(['w', 'n']);
  });

  it('reports truncation wherever the file is cut', () => {
    for (const cut of [0, 1, 7]) {
      expect(() => parseSafetensors(valid.subarray(0, cut))).toThrow(new RegExp(`safetensors: file of ${cut} bytes is too short to hold the 8-byte header length`));
    }
    for (const cut of [8, 9, 8 + n - 1]) {
      expect(() => parseSafetensors(valid.subarray(0, cut))).toThrow(new RegExp(`header of ${n} bytes runs past the end of the file \\(${cut} bytes, ${8 + n - cut} missing\\): the file is truncated`));
    }
    expect(() => parseSafetensors(valid.subarray(0, 8 + n))).toThrow(/tensor "w": data_offsets \[0, 24\] run past the end of the data buffer \(0 bytes\): the file is truncated, 32 bytes missing/);
    expect(() => parseSafetensors(valid.subarray(0, 8 + n + 24))).toThrow(/tensor "n": data_offsets \[24, 32\] run past the end of the data buffer \(24 bytes\): the file is truncated, 8 bytes missing/);
    expect(() => parseSafetensors(valid.subarray(0, valid.length - 1))).toThrow(/the file is truncated, 1 bytes missing/);
    expect(dataBytes).toBe(32);
  });

  it('limits the header length before reading it', () => {
    const huge = valid.slice();
    new DataView(huge.buffer).setBigUint64(0, 2n ** 62n, true);
    expect(() => parseSafetensors(huge)).toThrow(/safetensors: header of 4611686018427387904 bytes exceeds the limit of 104857600/);
    expect(() => parseSafetensors(valid, { maxHeaderBytes: 16 })).toThrow(new RegExp(`header of ${n} bytes exceeds the limit of 16`));
    const longer = valid.slice();
    new DataView(longer.buffer).setBigUint64(0, BigInt(valid.length), true);
    expect(() => parseSafetensors(longer)).toThrow(/runs past the end of the file .*truncated/);
  });

  it('rejects a header that is not UTF-8, not JSON or not an object', () => {
    const badUtf8 = valid.slice();
    badUtf8[8 + 2] = 0xff;
    expect(() => parseSafetensors(badUtf8)).toThrow(/safetensors: header is not valid UTF-8/);
    const badJson = valid.slice();
    badJson[8] = 'x'.charCodeAt(0);
    expect(() => parseSafetensors(badJson)).toThrow(/safetensors: header is not valid JSON/);
    const shorter = valid.slice();
    new DataView(shorter.buffer).setBigUint64(0, BigInt(n - 9), true);
    expect(() => parseSafetensors(shorter)).toThrow(/header is not valid JSON/);
    expect(() => parseSafetensors(fileWith('[1, 2]'))).toThrow(/header must be a JSON object of tensors, got an array/);
    expect(() => parseSafetensors(fileWith('null'))).toThrow(/header must be a JSON object of tensors, got null/);
  });

  it('rejects bad tensor descriptions, naming the tensor', () => {
    expect(() => parseSafetensors(fileWith({ t: 3 }))).toThrow(/tensor "t": expected \{dtype, shape, data_offsets\}, got 3/);
    expect(() => parseSafetensors(fileWith({ t: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, 1))).toThrow(/tensor "t": unknown dtype "F8" \(supported: F64, F32/);
    expect(() => parseSafetensors(fileWith({ t: { shape: [1], data_offsets: [0, 4] } }, 4))).toThrow(/tensor "t": unknown dtype undefined/);
    for (const shape of [[-1], [1.5], '4', [null]]) {
      expect(() => parseSafetensors(fileWith({ t: { dtype: 'F32', shape, data_offsets: [0, 4] } }, 4))).toThrow(/tensor "t": bad shape .*: expected an array of non-negative integers/);
    }
    for (const offsets of [[0], [0, 1.5], [4, 0], [-4, 0], '0,4', [0, 4, 8]]) {
      expect(() => parseSafetensors(fileWith({ t: { dtype: 'F32', shape: [1], data_offsets: offsets } }, 4))).toThrow(/tensor "t": data_offsets must be \[begin, end\] integers/);
    }
    expect(() => parseSafetensors(fileWith({ t: f32([2, 3], [0, 20]) }, 20))).toThrow(/tensor "t": data_offsets \[0, 20\] hold 20 bytes, but F32 of shape \[2, 3\] needs 24/);
    expect(() => parseSafetensors(fileWith({ t: { dtype: 'I64', shape: [], data_offsets: [0, 4] } }, 4))).toThrow(/tensor "t": data_offsets \[0, 4\] hold 4 bytes, but I64 of shape \[\] needs 8/);
  });

  it('rejects overlapping tensors and holes in the data buffer', () => {
    expect(() => parseSafetensors(fileWith({ a: f32([2], [0, 8]), b: f32([2], [4, 12]) }, 12))).toThrow(/tensors "a" \[0, 8\] and "b" \[4, 12\] overlap in the data buffer/);
    expect(() => parseSafetensors(fileWith({ a: f32([2], [0, 8]), b: f32([2], [0, 8]) }, 8))).toThrow(/tensors "a" \[0, 8\] and "b" \[0, 8\] overlap/);
    expect(() => parseSafetensors(fileWith({ a: f32([1], [0, 4]), b: f32([1], [8, 12]) }, 12))).toThrow(/bytes \[4, 8\) of the data buffer belong to no tensor \(a hole before "b"\)/);
    expect(() => parseSafetensors(fileWith({ b: f32([1], [4, 8]) }, 8))).toThrow(/bytes \[0, 4\) of the data buffer belong to no tensor \(a hole before "b"\)/);
    expect(() => parseSafetensors(fileWith({ a: f32([1], [0, 4]) }, 6))).toThrow(/bytes \[4, 6\) of the data buffer belong to no tensor \(a hole at the end\)/);
    expect(() => parseSafetensors(Uint8Array.of(...valid, 0))).toThrow(/a hole at the end/);
    // Zero-sized tensors may sit anywhere between others; order in the header does not matter.
    const ok = parseSafetensors(fileWith({ b: f32([1], [4, 8]), e: f32([0], [4, 4]), a: f32([1], [0, 4]) }, 8));
    expect([...ok.tensors.keys()]).toEqual(['b', 'e', 'a']);
  });

  it('rejects __metadata__ that is not an object of strings', () => {
    expect(() => parseSafetensors(fileWith({ __metadata__: { format: 1 } }))).toThrow(/"__metadata__" value "format" must be a string, got 1/);
    expect(() => parseSafetensors(fileWith({ __metadata__: ['pt'] }))).toThrow(/"__metadata__" must be an object of strings, got an array/);
    expect(parseSafetensors(fileWith({ __metadata__: null })).metadata).toEqual({});
    expect(parseSafetensors(fileWith({})).tensors.size).toBe(0);
  });

  it('reads tensors at unaligned offsets of an unaligned view', () => {
    const inner = fileWith({ u: { dtype: 'U8', shape: [3], data_offsets: [0, 3] }, f: f32([2], [3, 11]), d: { dtype: 'F64', shape: [1], data_offsets: [11, 19] } },
      (() => {
        const b = new Uint8Array(19);
        b.set([1, 2, 3]);
        const v = new DataView(b.buffer);
        v.setFloat32(3, -1.25, true);
        v.setFloat32(7, 1e-40, true);
        v.setFloat64(11, Math.PI, true);
        return b;
      })());
    const shifted = new Uint8Array(inner.length + 3);
    shifted.set(inner, 3);
    const { tensors } = parseSafetensors(shifted.subarray(3));
    expect([...tensors.get('u')!.data]).toEqual([1, 2, 3]);
    expect([...tensors.get('f')!.data]).toEqual([-1.25, Math.fround(1e-40)]);
    expect([...tensors.get('d')!.data]).toEqual([Math.fround(Math.PI)]);
  });
});
