// @welford/layers: what users write models with, like torch.nn in TypeScript.
export { Module, type AnyModule, type StateEntry, type StateDtype, type ForwardHook, type ForwardPreHook, type HookHandle } from './module/module.ts';
export { Sequential, ModuleList } from './module/sequential.ts';
export type { HostTensor, StateDict, LoadStateDictOptions, LoadResult } from './module/load_state.ts';
export * as init from './init.ts';
export * from './layers/index.ts';
export * from './norm/index.ts';
export * from './models/index.ts';
export * from './checkpoint/index.ts';
export * from './training/index.ts';
export * from './parallel/index.ts';
export * from './federated/index.ts';
