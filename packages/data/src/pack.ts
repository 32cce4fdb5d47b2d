// The compact binary form of a byte-image dataset, for shipping to a browser: no Node APIs here,
// so a page can fetch() a file and read it. Layout (integers are little-endian uint32):
//   0  "WFDS"            magic
//   4  version           1
//   8  kind              0: one label byte per image, 1: one mask of H·W bytes per image
//   12 count             number of images
//   16 C, 20 H, 24 W     image shape
//   28 L                 byte length of the class names
//   32 names             UTF-8 JSON array of L bytes
//   then pixels          count·C·H·W bytes (value / 255 is the intensity)
//   then targets         count label bytes, or count·H·W mask bytes
import { LabeledImages, MaskedImages, type ByteImagesOptions } from './byte_images.ts';

const MAGIC = 'WFDS';
const VERSION = 1;
const HEADER = 32;

/** Serialises byte images with their labels or masks into the format above. */
export function packDataset(set: LabeledImages | MaskedImages): Uint8Array {
  const names = new TextEncoder().encode(JSON.stringify(set.classes));
  const targets = set.kind === 'labels' ? set.labels : set.masks;
  const out = new Uint8Array(HEADER + names.length + set.pixels.length + targets.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = MAGIC.charCodeAt(i);
  const fields = [VERSION, set.kind === 'labels' ? 0 : 1, set.length, ...set.shape, names.length];
  fields.forEach((v, i) => view.setUint32(4 + 4 * i, v, true));
  out.set(names, HEADER);
  out.set(set.pixels, HEADER + names.length);
  out.set(targets, HEADER + names.length + set.pixels.length);
  return out;
}

/**
 * Reads the format above from an ArrayBuffer (or a view of one) without copying the pixels. The
 * result is `LabeledImages` (kind 'labels') or `MaskedImages` (kind 'masks'); narrow on `kind`.
 */
export function unpackDataset(buffer: ArrayBuffer | ArrayBufferView, options: ByteImagesOptions = {}): LabeledImages | MaskedImages {
  const bytes = buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const fail = (why: string): never => {
    throw new Error(`unpackDataset: ${why}`);
  };
  if (bytes.length < HEADER) fail(`expected at least a ${HEADER}-byte header, got ${bytes.length} bytes`);
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic !== MAGIC) fail(`not a packed dataset: expected magic "${MAGIC}", got ${JSON.stringify(magic)}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [version, kind, count, c, h, w, nameBytes] = Array.from({ length: 7 }, (_, i) => view.getUint32(4 + 4 * i, true));
  if (version !== VERSION) fail(`unsupported version ${version} (this reader knows version ${VERSION})`);
  if (kind !== 0 && kind !== 1) fail(`unknown kind ${kind} (0: labels, 1: masks)`);
  const pixelBytes = count * c * h * w;
  const targetBytes = kind === 0 ? count : count * h * w;
  const expected = HEADER + nameBytes + pixelBytes + targetBytes;
  if (bytes.length !== expected) {
    fail(`a header of ${count} images of [${c}, ${h}, ${w}] with ${kind === 0 ? 'labels' : 'masks'} needs ${expected} bytes, got ${bytes.length}`);
  }
  const classes: unknown = JSON.parse(new TextDecoder().decode(bytes.subarray(HEADER, HEADER + nameBytes)));
  if (!Array.isArray(classes) || !classes.every((n) => typeof n === 'string')) fail('class names are not a JSON array of strings');
  const start = HEADER + nameBytes;
  const data = { shape: [c, h, w] as const, classes: classes as string[], pixels: bytes.subarray(start, start + pixelBytes) };
  const targets = bytes.subarray(start + pixelBytes, expected);
  return kind === 0 ? new LabeledImages({ ...data, labels: targets }, options) : new MaskedImages({ ...data, masks: targets }, options);
}
