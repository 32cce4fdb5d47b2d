export { Linear, type LinearOptions } from './linear.ts';
export { Embedding } from './embedding.ts';
export { WeightedLayer } from './weighted.ts';
export { Conv2d, ConvTranspose2d, type Conv2dLayerOptions, type ConvTranspose2dLayerOptions } from './conv2d.ts';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, type MaxPool2dLayerOptions, type AvgPool2dLayerOptions } from './pool.ts';
export { ReLU, Sigmoid, Tanh, Identity } from './activation.ts';
export { Flatten } from './flatten.ts';
export { Dropout } from './dropout.ts';
export type { Size2d } from './spatial.ts';
