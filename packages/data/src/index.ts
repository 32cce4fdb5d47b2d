// @welford/data: datasets, a seeded data loader and augmentation. Browser-safe: the loaders
// that read files live in @welford/data/node.
export type { ImageShape, LabeledImage, MaskedImage, Sample, ImageDataset, ClassificationDataset, SegmentationDataset, RandomSource, Normalization } from './types.ts';
export { isMasked } from './types.ts';
export { LabeledImages, MaskedImages, type ByteImagesData, type ByteImagesOptions } from './byte_images.ts';
export { parseIdx, type IdxArray } from './idx.ts';
export { SyntheticShapes, SHAPE_CLASSES, shapeCovers, type ShapeSpec, type SyntheticShapesOptions } from './synthetic_shapes.ts';
export { packDataset, unpackDataset } from './pack.ts';
export { quantizeDataset, toByte } from './quantize.ts';
export { subset } from './subset.ts';
export { DataLoader, type DataLoaderOptions, type Batch, type ClassificationBatch, type SegmentationBatch, type HostBatch } from './loader.ts';
export * from './augment/index.ts';
export { mixup, mixupLoss, type MixupBatch } from './mixup.ts';
export { deriveSeed, permutation, sampleBeta, sampleGamma } from './random.ts';
