// Normalization layers: torch.nn's, batch renormalization, conditional batch norm, spectral norm;
// re-estimation of batch-norm statistics (precise batch norm, few-shot adaptation).
export { BatchNormBase, BatchNorm1d, BatchNorm2d, SyncBatchNorm, type BatchNormLayerOptions, type RunningStats } from './batch_norm.ts';
export { GroupNorm, type GroupNormLayerOptions } from './group_norm.ts';
export { LayerNorm, type LayerNormLayerOptions } from './layer_norm.ts';
export { InstanceNormBase, InstanceNorm1d, InstanceNorm2d, type InstanceNormLayerOptions } from './instance_norm.ts';
export { BatchRenorm2d, type BatchRenormLayerOptions, type RenormLimits } from './batch_renorm.ts';
export { ConditionalBatchNorm2d, type ConditionalBatchNormOptions } from './conditional_batch_norm.ts';
export { spectralNorm, removeSpectralNorm, type SpectralNormOptions } from './spectral_norm.ts';
export { createNorm, isNormKind, NORM_KINDS, type NormKind, type CreateNormOptions } from './factory.ts';
export { preciseBatchNorm, type PreciseBatchNormOptions } from './precise_batch_norm.ts';
export { adaptBatchNorm, type AdaptBatchNormOptions } from './adapt_batch_norm.ts';
export type { RunningStatsUpdate, ChannelStats, StatisticsBatch } from './adapt_statistics.ts';
