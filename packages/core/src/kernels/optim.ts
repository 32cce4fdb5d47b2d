import { dispatch1d, type Program } from '../backend/webgpu/program.ts';

// The optimizer updates of shaders/optim.wgsl, in place: the caller binds the tensors
// (param, grad and the state each entry point names).

const WG = 256;

/** Plain SGD: param −= lr·(grad + weight_decay·param). */
export function sgdProgram(n: number, lr: number, weightDecay: number): Omit<Program, 'bindings'> {
  return { kernel: 'optim', entryPoint: 'sgd', uniforms: { n, lr, weight_decay: weightDecay }, dispatch: dispatch1d(n, WG) };
}

/** SGD with a momentum buffer (PyTorch's dampening and Nesterov); `first` starts the buffer at the gradient. */
export function sgdMomentumProgram(
  n: number,
  h: { lr: number; weightDecay: number; momentum: number; dampening: number; nesterov: boolean },
  first: boolean,
): Omit<Program, 'bindings'> {
  return {
    kernel: 'optim',
    entryPoint: 'sgd_momentum',
    overrides: { NESTEROV: h.nesterov },
    uniforms: { n, lr: h.lr, weight_decay: h.weightDecay, momentum: h.momentum, dampening: h.dampening, first: first ? 1 : 0 },
    dispatch: dispatch1d(n, WG),
  };
}

/**
 * Adam (L2 in the gradient) or AdamW (`decoupled`: decay applied to the parameter), with the
 * step count of slot `slot` read from the `step_counts` tensor on the device.
 */
export function adamProgram(
  n: number,
  h: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean },
  slot: number,
): Omit<Program, 'bindings'> {
  return {
    kernel: 'optim',
    entryPoint: 'adam',
    uniforms: {
      n,
      lr: h.lr,
      beta1: h.beta1,
      beta2: h.beta2,
      eps: h.eps,
      weight_decay: h.decoupled ? 0 : h.weightDecay,
      decay: h.decoupled ? 1 - h.lr * h.weightDecay : 1,
      slot,
    },
    dispatch: dispatch1d(n, WG),
  };
}

/** Adds one to the step counts of the slots set in `mask` (8 words) among `count` from `firstSlot`. */
export function advanceStepProgram(firstSlot: number, count: number, mask: readonly number[]): Omit<Program, 'bindings'> {
  return { kernel: 'optim', entryPoint: 'advance_step', uniforms: { first_slot: firstSlot, count, mask: mask.map((w) => w >>> 0) }, dispatch: [1] };
}

/** Floats of one parameter one workgroup of a flat update covers at most (16 per thread). */
export const FLAT_CHUNK = 16 * WG;
/** `Chunk.flags` of shaders/optim.wgsl. */
export const CHUNK_ACTIVE = 1;
export const CHUNK_FIRST_STEP = 2;

/** Which flat update: plain SGD, SGD with momentum (Nesterov or not), Adam/AdamW. */
export type FlatUpdate = { kind: 'sgd' } | { kind: 'sgd_momentum'; nesterov: boolean } | { kind: 'adam' };

/**
 * One dispatch of a flat update over `chunkCount` chunks (one workgroup each): the caller binds
 * the flat buffers (param, grad and the state the entry point names), `chunks` and the
 * hyperparameters (`sgd_hyper` or `adam_hyper`).
 */
export function flatUpdateProgram(update: FlatUpdate, chunkCount: number): Omit<Program, 'bindings'> {
  return {
    kernel: 'optim',
    entryPoint: `${update.kind}_flat`,
    overrides: update.kind === 'sgd_momentum' ? { NESTEROV: update.nesterov } : undefined,
    dispatch: dispatch1d(chunkCount * WG, WG),
  };
}

/** The hyperparameters of `sgd_flat` and `sgd_momentum_flat`, in the order of SgdHyper. */
export function sgdHyperValues(h: { lr: number; weightDecay: number; momentum: number; dampening: number }): Float32Array {
  return Float32Array.of(h.lr, h.weightDecay, h.momentum, h.dampening);
}

/** The hyperparameters of `adam_flat`, in the order of AdamHyper (Adam's L2, or AdamW's decay factor). */
export function adamHyperValues(h: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean }): Float32Array {
  return Float32Array.of(h.lr, h.beta1, h.beta2, h.eps, h.decoupled ? 0 : h.weightDecay, h.decoupled ? 1 - h.lr * h.weightDecay : 1);
}
