import { LabeledImages, MaskedImages } from './byte_images.ts';
import { isMasked, type ImageDataset, type LabeledImage, type MaskedImage } from './types.ts';

/** round(clamp(v, 0, 1) · 255): the byte nearest an intensity in [0, 1]. */
export function toByte(v: number): number {
  return Math.round(Math.min(1, Math.max(0, v)) * 255);
}

/**
 * Materialises a dataset whose intensities lie in [0, 1] as byte images (for `packDataset`):
 * each value becomes its nearest byte, so a value that is already k/255 survives exactly.
 * Labels must be integers in [0, 255]. An empty dataset gives empty `LabeledImages`.
 */
export function quantizeDataset(dataset: ImageDataset<LabeledImage>): LabeledImages;
export function quantizeDataset(dataset: ImageDataset<MaskedImage>): MaskedImages;
export function quantizeDataset(dataset: ImageDataset): LabeledImages | MaskedImages {
  const [c, h, w] = dataset.shape;
  const size = c * h * w;
  const pixels = new Uint8Array(dataset.length * size);
  const labels = new Uint8Array(dataset.length);
  let masks: Uint8Array | null = null;
  for (let i = 0; i < dataset.length; i++) {
    const sample = dataset.get(i);
    if (sample.image.length !== size) throw new Error(`quantizeDataset: sample ${i} has ${sample.image.length} values, expected ${size} for shape [${c}, ${h}, ${w}]`);
    for (let k = 0; k < size; k++) pixels[i * size + k] = toByte(sample.image[k]);
    if (isMasked(sample)) {
      masks ??= new Uint8Array(dataset.length * h * w);
      masks.set(sample.mask, i * h * w);
    } else {
      if (!Number.isInteger(sample.label) || sample.label < 0 || sample.label > 255) {
        throw new Error(`quantizeDataset: sample ${i} has label ${sample.label}; byte labels must be integers in [0, 255]`);
      }
      labels[i] = sample.label;
    }
  }
  const data = { shape: dataset.shape, classes: dataset.classes, pixels };
  return masks ? new MaskedImages({ ...data, masks }) : new LabeledImages({ ...data, labels });
}
