// Training: the loop (fit), evaluation, and metrics accumulated on the device.
export { fit, type FitOptions, type FitHistory, type EpochResult, type StepInfo } from './fit.ts';
export { evaluate, type EvaluateOptions, type Evaluation, type EvaluationMetric } from './evaluate.ts';
export { Accuracy, MeanIoU, Mean, type DeviceMetric, type IoUResult } from './metrics.ts';
export { argmax } from './argmax.ts';
export { readTogether } from './device_sum.ts';
export { pixelCrossEntropy, defaultLoss, type TrainingBatch, type LossFn } from './batch.ts';
export { NonFiniteLossError, type NonFiniteInfo } from './non_finite.ts';
export type { LossReading } from './loss_reader.ts';
