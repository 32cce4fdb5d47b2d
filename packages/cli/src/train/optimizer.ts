// The optimizer and learning-rate schedule a configuration names (browser-safe).
import { Adam, AdamW, CosineAnnealingLR, LinearWarmup, SGD, StepLR, warmup, type LrScheduler, type Optimizer, type Tensor } from '@welford/core';
import type { TrainConfig } from './config.ts';

/** The optimizer of a run and its schedule, stepped once per batch (null: a constant rate). */
export interface Optimization {
  optimizer: Optimizer;
  scheduler: LrScheduler | null;
}

/**
 * SGD (with momentum and L2 weight decay), Adam (L2) or AdamW (decoupled decay), and a per-batch
 * schedule over `totalSteps`: 'step' divides the rate by 10 after each third of the steps after
 * warm-up, 'cosine' anneals it to 0 over them; `warmup` puts a linear ramp from lr/3 in front.
 */
export function buildOptimization(config: TrainConfig, params: readonly Tensor[], totalSteps: number): Optimization {
  return withSchedule(config, buildOptimizer(config, params), totalSteps);
}

/** The optimizer a configuration names, over `params`. */
export function buildOptimizer(config: TrainConfig, params: readonly Tensor[]): Optimizer {
  const { lr, weightDecay } = config;
  if (config.optimizer === 'sgd') return new SGD(params, { lr, momentum: config.momentum, weightDecay });
  return config.optimizer === 'adam' ? new Adam(params, { lr, weightDecay }) : new AdamW(params, { lr, weightDecay });
}

/** `optimizer` with the configuration's per-batch schedule over `totalSteps` (see buildOptimization). */
export function withSchedule(config: TrainConfig, optimizer: Optimizer, totalSteps: number): Optimization {
  const afterWarmup = Math.max(1, totalSteps - config.warmup);
  let scheduler: LrScheduler | null = null;
  if (config.schedule === 'step') scheduler = new StepLR(optimizer, { stepSize: Math.max(1, Math.ceil(afterWarmup / 3)), gamma: 0.1 });
  else if (config.schedule === 'cosine') scheduler = new CosineAnnealingLR(optimizer, { tMax: afterWarmup });
  if (config.warmup > 0) scheduler = scheduler ? warmup(scheduler, { warmupSteps: config.warmup }) : new LinearWarmup(optimizer, { warmupSteps: config.warmup });
  return { optimizer, scheduler };
}
