// Optimizers whose updates run on the parameters' device, in place.
export { Optimizer } from './optimizer.ts';
export { SGD, type SgdOptions } from './sgd.ts';
export { Adam, AdamW, type AdamOptions } from './adam.ts';
