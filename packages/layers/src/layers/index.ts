export { Linear, type LinearOptions } from './linear.ts';
export { Embedding } from './embedding.ts';
export { WeightedLayer } from './weighted.ts';
