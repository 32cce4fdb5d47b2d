// Data-parallel training: replicas on their own devices, gradients all-reduced, synchronised batch norm.
export { DataParallel, convertSyncBatchNorm, type DataParallelOptions, type DataParallelStep } from './data_parallel.ts';
export { allReduceGradients } from './gradients.ts';
export { ReplicatedOptimizer } from './replicated_optimizer.ts';
export { shardSizes } from './shards.ts';
