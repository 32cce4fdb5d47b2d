import { checkIndex, checkNormalization, shapeString } from './checks.ts';
import { normalizeInPlace } from './normalize.ts';
import type { ClassificationDataset, ImageShape, LabeledImage, MaskedImage, Normalization, SegmentationDataset } from './types.ts';

/** Pixels as bytes (value / 255 is the intensity), `count` images of `shape`, back to back. */
export interface ByteImagesData {
  shape: ImageShape;
  classes: readonly string[];
  pixels: Uint8Array;
}

export interface ByteImagesOptions {
  /** Per-channel (x − mean) / std applied to the [0, 1] intensities; default: none. */
  normalize?: Normalization;
  /** A name for error messages (default: the class name). */
  name?: string;
}

/** What labeled and masked byte images share: the pixels and their decoding to floats. */
abstract class ByteImages {
  readonly shape: ImageShape;
  readonly classes: readonly string[];
  readonly pixels: Uint8Array;
  readonly length: number;
  readonly normalization: Normalization | null;
  protected readonly name: string;

  constructor(data: ByteImagesData, options: ByteImagesOptions, name: string) {
    this.name = options.name ?? name;
    const [c, h, w] = data.shape;
    if (data.shape.length !== 3 || ![c, h, w].every((d) => Number.isInteger(d) && d > 0)) {
      throw new Error(`${this.name}: shape must be [C, H, W] with positive sizes, got ${shapeString(data.shape)}`);
    }
    const size = c * h * w;
    if (data.pixels.length % size !== 0) {
      throw new Error(`${this.name}: ${data.pixels.length} pixel bytes are not a whole number of ${shapeString(data.shape)} images (${size} bytes each)`);
    }
    if (options.normalize) checkNormalization(this.name, options.normalize, data.shape);
    this.shape = [c, h, w];
    this.classes = [...data.classes];
    this.pixels = data.pixels;
    this.length = data.pixels.length / size;
    this.normalization = options.normalize ?? null;
  }

  /** Image `index` as floats: byte / 255, then the normalization if one was given. */
  protected image(index: number): Float32Array {
    checkIndex(this.name, index, this.length);
    const size = this.shape[0] * this.shape[1] * this.shape[2];
    const image = new Float32Array(size);
    const bytes = this.pixels.subarray(index * size, (index + 1) * size);
    for (let i = 0; i < size; i++) image[i] = bytes[i] / 255;
    return this.normalization ? normalizeInPlace(image, this.shape, this.normalization) : image;
  }
}

/** Checks that every id is below the class count. */
function checkIds(name: string, what: string, ids: Uint8Array, classes: number): void {
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] >= classes) throw new Error(`${name}: ${what} ${i} is ${ids[i]}, but there are only ${classes} classes`);
  }
}

/** An in-memory classification dataset of byte images and byte labels (MNIST's layout). */
export class LabeledImages extends ByteImages implements ClassificationDataset {
  readonly kind = 'labels';
  readonly labels: Uint8Array;

  constructor(data: ByteImagesData & { labels: Uint8Array }, options: ByteImagesOptions = {}) {
    super(data, options, 'LabeledImages');
    if (data.labels.length !== this.length) {
      throw new Error(`${this.name}: ${this.length} images but ${data.labels.length} labels`);
    }
    checkIds(this.name, 'label', data.labels, this.classes.length);
    this.labels = data.labels;
  }

  get(index: number): LabeledImage {
    return { image: this.image(index), label: this.labels[index] };
  }
}

/** An in-memory segmentation dataset of byte images and one byte class id per pixel. */
export class MaskedImages extends ByteImages implements SegmentationDataset {
  readonly kind = 'masks';
  readonly masks: Uint8Array;

  constructor(data: ByteImagesData & { masks: Uint8Array }, options: ByteImagesOptions = {}) {
    super(data, options, 'MaskedImages');
    const plane = this.shape[1] * this.shape[2];
    if (data.masks.length !== this.length * plane) {
      throw new Error(`${this.name}: ${this.length} images of ${shapeString(this.shape)} need ${this.length * plane} mask bytes, got ${data.masks.length}`);
    }
    checkIds(this.name, 'mask byte', data.masks, this.classes.length);
    this.masks = data.masks;
  }

  get(index: number): MaskedImage {
    const plane = this.shape[1] * this.shape[2];
    return { image: this.image(index), mask: this.masks.slice(index * plane, (index + 1) * plane) };
  }
}
