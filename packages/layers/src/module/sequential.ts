import type { Tensor } from '@welford/core';
import { Module, type AnyModule } from './module.ts';

/** Children called in order, each on the previous one's output (`torch.nn.Sequential`); named "0", "1", ... */
export class Sequential extends Module<[Tensor], Tensor> {
  static override readonly typeName = 'Sequential';
  private readonly layers: Module<[Tensor], Tensor>[];

  constructor(...layers: Module<[Tensor], Tensor>[]) {
    super();
    this.layers = layers;
    layers.forEach((layer, i) => this.registerModule(String(i), layer));
  }

  get length(): number {
    return this.layers.length;
  }

  /** The i-th layer. */
  at(i: number): Module<[Tensor], Tensor> {
    const layer = this.layers[i];
    if (!layer) throw new Error(`Sequential: index ${i} is out of range for ${this.layers.length} layers`);
    return layer;
  }

  forward(x: Tensor): Tensor {
    for (const layer of this.layers) x = layer.call(x);
    return x;
  }
}

/** A list of child modules that are registered (saved, trained) but called by their owner (`torch.nn.ModuleList`). */
export class ModuleList<M extends AnyModule = AnyModule> extends Module<unknown[], unknown> {
  static override readonly typeName = 'ModuleList';
  private readonly items: M[] = [];

  constructor(modules: readonly M[] = []) {
    super();
    for (const m of modules) this.push(m);
  }

  push(module: M): this {
    this.registerModule(String(this.items.length), module);
    this.items.push(module);
    return this;
  }

  get length(): number {
    return this.items.length;
  }

  at(i: number): M {
    const m = this.items[i];
    if (!m) throw new Error(`ModuleList: index ${i} is out of range for ${this.items.length} modules`);
    return m;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }

  forward(): unknown {
    throw new Error('ModuleList has no forward: call its modules');
  }
}
