/** An image's [channels, height, width]; pixels are stored row-major, channel outermost. */
export type ImageShape = readonly [number, number, number];

/** A classification sample: C·H·W pixels and a class index. */
export interface LabeledImage {
  image: Float32Array;
  label: number;
}

/** A segmentation sample: C·H·W pixels and H·W class ids (0 is background). */
export interface MaskedImage {
  image: Float32Array;
  mask: Uint8Array;
}

export type Sample = LabeledImage | MaskedImage;

/**
 * A map-style dataset (torch.utils.data.Dataset): `length` samples, read by index. Every sample
 * has the same `shape`; `classes` names the labels (or the mask's class ids).
 */
export interface ImageDataset<S extends Sample = Sample> {
  readonly length: number;
  readonly shape: ImageShape;
  readonly classes: readonly string[];
  /** The sample at `index` in [0, length); throws outside that range. */
  get(index: number): S;
}

export type ClassificationDataset = ImageDataset<LabeledImage>;
export type SegmentationDataset = ImageDataset<MaskedImage>;

/**
 * Where augmentations and the loader draw their randomness: any source of uniform numbers in
 * [0, 1) and standard normals. Core's seeded `Random` is one.
 */
export interface RandomSource {
  uniform(): number;
  normal(): number;
}

/** Per-channel normalization, as torchvision's Normalize: (x − mean[c]) / std[c]. */
export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
}

/** True when the sample carries a segmentation mask rather than a label. */
export function isMasked(sample: Sample): sample is MaskedImage {
  return 'mask' in sample;
}
