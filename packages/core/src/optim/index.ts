// Optimizers whose updates run on the parameters' device, in place.
export { Optimizer } from './optimizer.ts';
export { SGD, type SgdOptions } from './sgd.ts';
export { Adam, AdamW, type AdamOptions } from './adam.ts';
export { LrScheduler, StepLR, CosineAnnealingLR, LinearWarmup, warmup, type LrSchedulerState, type StepLROptions, type CosineAnnealingLROptions, type LinearWarmupOptions } from './lr_scheduler.ts';
export { clipGradNorm, clipGradValue, type ClipGradNormOptions } from './clip_grad.ts';
