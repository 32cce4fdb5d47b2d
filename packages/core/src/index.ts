// @welford/core: tensors, WebGPU kernels, autograd and optimizers.
import './tensor/methods.ts';

export type { Backend, MemoryReport, Storage } from './backend/backend.ts';
export { CpuBackend } from './backend/cpu_backend.ts';
export { WebGpuBackend } from './backend/webgpu/webgpu_backend.ts';
export { acquireDevice, SWIFTSHADER_ICD_CANDIDATES, type AcquiredDevice, type AcquireOptions } from './device/acquire.ts';
export { init, setBackend, getBackend, memory, type InitOptions } from './tensor/engine.ts';
export { Tensor, type GradNode } from './tensor/tensor.ts';
export { tidy, keep } from './tensor/scope.ts';
export { fromArray, zeros, ones, zerosLike, onesLike, rand, randn, type CreationOptions, type RandomOptions } from './tensor/creation.ts';
export { noGrad, isGradEnabled } from './autograd/grad_mode.ts';
export { backward } from './autograd/backward.ts';
export { manualSeed, Random } from './util/random.ts';
export { type Shape, shapeToString, sizeOf, broadcastShapes } from './util/shape.ts';
export { registerOp, getOp, registeredOps } from './ops/registry.ts';
export { runOp } from './ops/dispatch.ts';
export type { OpDef, HostArray, BackwardContext } from './ops/op_def.ts';
export type { Program } from './kernels/program.ts';
export * from './ops/elementwise.ts';
export * from './ops/reduce.ts';
export * from './ops/matmul.ts';
export * from './ops/softmax.ts';
export * from './ops/gather.ts';
export * from './ops/loss.ts';
export * from './ops/layout.ts';
export * from './ops/where.ts';
export * from './optim/index.ts';
