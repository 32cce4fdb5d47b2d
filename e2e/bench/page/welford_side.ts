// welford's half of the training benchmarks: a model, its data and SGD as a Trainer, and a host
// copy of the model's initial state for TF.js to start from.
import { SGD, WebGpuBackend, crossEntropy, fromArray, getBackend, tidy, type Tensor } from '@welford/core';
import type { Module } from '@welford/layers';
import type { Loss, Trainer } from './training.ts';

/** A tensor's values and shape, read back to the host. */
export interface HostTensor {
  shape: readonly number[];
  data: Float32Array;
}

/** One module's own parameters and buffers, by local name (`weight`, `runningMean`), read back. */
export interface HostModule {
  /** Dotted path of the module (`layer2.0.conv1`). */
  path: string;
  tensors: Map<string, HostTensor>;
}

/** The state of every module of `model` that holds any, in registration order. */
export async function hostState(model: Module): Promise<HostModule[]> {
  const byOwner = new Map<unknown, HostModule>();
  for (const e of model.stateEntries()) {
    let m = byOwner.get(e.owner);
    if (!m) byOwner.set(e.owner, (m = { path: e.name.slice(0, e.name.length - e.localName.length - 1), tensors: new Map() }));
    m.tensors.set(e.localName, { shape: e.tensor.shape, data: await e.tensor.toArray() });
  }
  return [...byOwner.values()];
}

/** welford's training step on one model and batch: mean cross-entropy, backward, SGD (momentum 0.9, lr 0.05), gradients cleared. */
export class WelfordTrainer implements Trainer {
  private readonly x: Tensor;
  private readonly y: Tensor;
  private readonly opt: SGD;

  constructor(
    private readonly model: Module,
    input: Float32Array,
    inputShape: readonly number[],
    targets: Int32Array,
  ) {
    this.x = fromArray(input, inputShape);
    // Targets are class indices stored as floats.
    this.y = fromArray(Float32Array.from(targets), [targets.length]);
    this.opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
    model.train();
  }

  step(): Loss {
    const loss = tidy(() => {
      const l = crossEntropy(this.model.call(this.x), this.y);
      l.backward();
      return l;
    });
    this.opt.step();
    this.model.zeroGrad();
    return { read: () => loss.item(), dispose: () => loss.dispose() };
  }

  ownDispatches(): number {
    return backend().counters.dispatches;
  }

  dispose(): void {
    this.opt.dispose();
    this.x.dispose();
    this.y.dispose();
    this.model.dispose();
  }
}

/** welford's current backend, which the page made a WebGPU one. */
export function backend(): WebGpuBackend {
  const b = getBackend();
  if (!(b instanceof WebGpuBackend)) throw new Error(`the benchmark needs welford's WebGPU backend, got ${b.description}`);
  return b;
}
