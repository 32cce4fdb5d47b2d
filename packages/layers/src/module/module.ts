import { fromArray, keep, Tensor } from '@welford/core';
import { annotateModuleError, enterModule, leaveModule } from './call_path.ts';
import { loadStateInto, type HostTensor, type LoadResult, type LoadStateDictOptions, type StateDict } from './load_state.ts';

/** How a state entry is stored in checkpoints: float32 values, or an integer count (PyTorch's int64 buffers). */
export type StateDtype = 'float32' | 'int64';

/** One parameter or buffer of a module tree, by its dotted name. */
export interface StateEntry {
  readonly name: string;
  readonly tensor: Tensor;
  readonly kind: 'parameter' | 'buffer';
  readonly dtype: StateDtype;
  /** The module that owns it and its name there (e.g. the BatchNorm2d and "runningMean"). */
  readonly owner: AnyModule;
  readonly localName: string;
}

/** Called after `forward`; returning a value replaces the output. */
export type ForwardHook<In extends unknown[], Out> = (module: Module<In, Out>, inputs: In, output: Out) => Out | void;
/** Called before `forward`; returning an argument list replaces the inputs. */
export type ForwardPreHook<In extends unknown[], Out> = (module: Module<In, Out>, inputs: In) => In | void;

/** Removes the hook it was returned for. */
export interface HookHandle {
  remove(): void;
}

interface BufferSlot {
  tensor: Tensor | null;
  persistent: boolean;
  dtype: StateDtype;
}

// Children take any inputs and give any output: a parent only stores and traverses them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyModule = Module<any, any>;

/**
 * The base of every layer and model, like `torch.nn.Module`. A module owns parameters
 * (tensors that learn), buffers (state such as running statistics) and child modules, each
 * under a name; their dotted paths (`layer1.0.bn1.runningMean`) name them in `stateDict()`.
 * Subclasses implement `forward`; callers use `call`, which also runs the hooks.
 */
export abstract class Module<In extends unknown[] = [Tensor], Out = Tensor> {
  /** Training mode (batch statistics, dropout) when true; evaluation mode when false. Set with `train()` / `eval()`. */
  training = true;
  private readonly parameterSlots = new Map<string, Tensor | null>();
  private readonly bufferSlots = new Map<string, BufferSlot>();
  private readonly childSlots = new Map<string, AnyModule>();
  private readonly counterValues = new Map<string, number>();
  private readonly forwardHooks = new Set<ForwardHook<In, Out>>();
  private readonly forwardPreHooks = new Set<ForwardPreHook<In, Out>>();

  /**
   * The module's name in errors, `toString()`, state-dict messages and statistics records
   * (PyTorch's class name: "Conv2d", "BatchNorm2d"). Every module of welford declares it on its
   * class, `static override readonly typeName = 'Conv2d'`, because a minifier renames classes:
   * a bundled app would otherwise label its layers "t" and "e". Only a class's own declaration
   * counts (a subclass never inherits its parent's), and a class without one is named by its
   * JavaScript class name; declare it on your own modules if your app is minified.
   */
  declare static readonly typeName?: string;

  /** The computation; called through `call`, which adds hooks and names the failing layer in errors. */
  abstract forward(...inputs: In): Out;

  /** Runs the pre-hooks, `forward` and the hooks. An error names the layer's path in the model. */
  call(...inputs: In): Out {
    enterModule(this);
    try {
      let args = inputs;
      for (const hook of [...this.forwardPreHooks]) args = hook(this, args) ?? args;
      let output = this.forward(...args);
      for (const hook of [...this.forwardHooks]) {
        const replaced = hook(this, args, output);
        if (replaced !== undefined) output = replaced;
      }
      return output;
    } catch (e) {
      throw annotateModuleError(e);
    } finally {
      leaveModule(this);
    }
  }

  /** The name of the module's class: its own static `typeName` if it declares one, else its class name. */
  get typeName(): string {
    const cls = this.constructor as { readonly typeName?: unknown; readonly name: string };
    return Object.hasOwn(cls, 'typeName') && typeof cls.typeName === 'string' ? cls.typeName : cls.name;
  }

  /** Registers (or replaces) a parameter: it requires gradients and belongs to this module, outside any `tidy` scope. */
  registerParameter(name: string, tensor: Tensor): Tensor;
  registerParameter(name: string, tensor: Tensor | null): Tensor | null;
  registerParameter(name: string, tensor: Tensor | null): Tensor | null {
    this.checkName(name, 'parameter', this.parameterSlots);
    if (tensor) {
      keep(tensor);
      tensor.requiresGrad = true;
    }
    this.parameterSlots.set(name, tensor);
    return tensor;
  }

  /**
   * Registers a buffer: state that is not learned (running statistics). Persistent buffers are
   * saved in `stateDict()`; a null buffer is declared but absent (e.g. no running statistics).
   */
  registerBuffer(name: string, tensor: Tensor, options?: { persistent?: boolean }): Tensor;
  registerBuffer(name: string, tensor: Tensor | null, options?: { persistent?: boolean }): Tensor | null;
  registerBuffer(name: string, tensor: Tensor | null, { persistent = true }: { persistent?: boolean } = {}): Tensor | null {
    this.checkName(name, 'buffer', this.bufferSlots);
    if (tensor) keep(tensor);
    this.bufferSlots.set(name, { tensor, persistent, dtype: 'float32' });
    return tensor;
  }

  /**
   * Registers an integer counter (PyTorch's `num_batches_tracked`): a buffer of shape [] saved as
   * int64 in checkpoints, whose value is also kept on the host so that forward can use it
   * without reading the GPU.
   */
  protected registerCounter(name: string, initial = 0): void {
    this.checkName(name, 'buffer', this.bufferSlots);
    const tensor = keep(fromArray([initial], []));
    this.bufferSlots.set(name, { tensor, persistent: true, dtype: 'int64' });
    this.counterValues.set(name, initial);
  }

  /** A counter's value. */
  protected counter(name: string): number {
    const value = this.counterValues.get(name);
    if (value === undefined) throw new Error(`${this.typeName}: no counter named "${name}"`);
    return value;
  }

  /** Sets a counter on the host and in its buffer. */
  protected setCounter(name: string, value: number): void {
    const slot = this.bufferSlots.get(name);
    if (!slot?.tensor || slot.dtype !== 'int64') throw new Error(`${this.typeName}: no counter named "${name}"`);
    this.counterValues.set(name, value);
    slot.tensor.backend.write(slot.tensor.storageForWrite(`${this.typeName}.${name}`), Float32Array.of(value));
  }

  /** Registers (or replaces) a child module. */
  registerModule<M extends AnyModule>(name: string, module: M): M {
    this.checkName(name, 'module', this.childSlots);
    if (!(module instanceof Module)) throw new Error(`${this.typeName}: child "${name}" is not a Module`);
    this.childSlots.set(name, module);
    return module;
  }

  /** Unregisters a parameter and returns it (the caller now owns it), e.g. to re-register it under another name. */
  removeParameter(name: string): Tensor | null {
    if (!this.parameterSlots.has(name)) throw new Error(`${this.typeName}: no parameter named "${name}"`);
    const tensor = this.parameterSlots.get(name) ?? null;
    this.parameterSlots.delete(name);
    return tensor;
  }

  /** A registered parameter by its local name (null when declared absent); throws if there is none. */
  getParameter(name: string): Tensor | null {
    if (!this.parameterSlots.has(name)) throw new Error(`${this.typeName}: no parameter named "${name}"`);
    return this.parameterSlots.get(name) ?? null;
  }

  /** A registered buffer by its local name (null when declared absent); throws if there is none. */
  getBuffer(name: string): Tensor | null {
    const slot = this.bufferSlots.get(name);
    if (!slot) throw new Error(`${this.typeName}: no buffer named "${name}"`);
    return slot.tensor;
  }

  /** Direct children with their names. */
  namedChildren(): [string, AnyModule][] {
    return [...this.childSlots];
  }

  children(): AnyModule[] {
    return [...this.childSlots.values()];
  }

  /** This module (name "") and every descendant, each once, with dotted names, in registration order. */
  namedModules(prefix = ''): [string, AnyModule][] {
    const seen = new Set<AnyModule>();
    const out: [string, AnyModule][] = [];
    const walk = (m: AnyModule, path: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([path, m]);
      for (const [name, child] of m.childSlots) walk(child, path ? `${path}.${name}` : name);
    };
    walk(this as AnyModule, prefix);
    return out;
  }

  modules(): AnyModule[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Every parameter once (a shared tensor under its first name), with dotted names. */
  namedParameters(): [string, Tensor][] {
    return this.stateEntries({ buffers: false, parameters: true }).map((e) => [e.name, e.tensor]);
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Every buffer once (persistent or not), with dotted names. */
  namedBuffers(): [string, Tensor][] {
    return this.stateEntries({ buffers: true, parameters: false, nonPersistent: true }).map((e) => [e.name, e.tensor]);
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, t]) => t);
  }

  /** The parameters and persistent buffers with their dotted names and how checkpoints store them. */
  stateEntries(which: { parameters?: boolean; buffers?: boolean; nonPersistent?: boolean } = {}): StateEntry[] {
    const { parameters = true, buffers = true, nonPersistent = false } = which;
    const seen = new Set<Tensor>();
    const out: StateEntry[] = [];
    for (const [path, m] of this.namedModules()) {
      const prefix = path ? `${path}.` : '';
      if (parameters) {
        for (const [localName, tensor] of m.parameterSlots) {
          if (!tensor || seen.has(tensor)) continue;
          seen.add(tensor);
          out.push({ name: prefix + localName, tensor, kind: 'parameter', dtype: 'float32', owner: m, localName });
        }
      }
      if (buffers) {
        for (const [localName, slot] of m.bufferSlots) {
          if (!slot.tensor || seen.has(slot.tensor) || (!slot.persistent && !nonPersistent)) continue;
          seen.add(slot.tensor);
          out.push({ name: prefix + localName, tensor: slot.tensor, kind: 'buffer', dtype: slot.dtype, owner: m, localName });
        }
      }
    }
    return out;
  }

  /**
   * The parameters and persistent buffers by dotted name (`layer1.0.bn1.runningMean`): the
   * module's live tensors, not copies. Save them with `saveSafetensors`.
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const e of this.stateEntries()) out[e.name] = e.tensor;
    return out;
  }

  /**
   * Copies values into this module's parameters and buffers (in place: optimizers holding them
   * keep working). Strict by default: missing or unexpected keys are an error listing them; a
   * shape mismatch is always an error. Everything is checked (and tensors on another backend
   * read back) before anything is written, so a load that fails changes nothing.
   */
  async loadStateDict(state: StateDict, options: LoadStateDictOptions = {}): Promise<LoadResult> {
    const entries = this.stateEntries();
    // Only a strict load fills in defaults: a partial load (strict false) leaves what it lacks as it is.
    const defaults = (options.strict ?? true) && state !== null && typeof state === 'object' ? missingDefaults(entries, (e) => Object.hasOwn(state, e.name)) : [];
    const given = defaults.length === 0 ? state : { ...state, ...Object.fromEntries(defaults.map(([e, value]) => [e.name, value])) };
    return loadStateInto(this.typeName, entries, given, options, (entry, value) => {
      entry.owner.counterValues.set(entry.localName, value);
    });
  }

  /**
   * What a strict load of a state dict without this module's entry `localName` writes into it,
   * or null when the entry must be there (the default). Mirrors PyTorch's `_load_from_state_dict`
   * migrations: its batch and instance norms load a missing `num_batches_tracked` as 0. A load
   * with `strict: false` leaves such an entry as it is and lists it as missing.
   */
  defaultForMissing(_localName: string): HostTensor | null {
    return null;
  }

  /** Sets training mode here and in every descendant. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode (`train(false)`). */
  eval(): this {
    return this.train(false);
  }

  /** Disposes every parameter's gradient (PyTorch's `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Adds a hook run after every `call`; returning a value replaces the output. */
  registerForwardHook(hook: ForwardHook<In, Out>): HookHandle {
    this.forwardHooks.add(hook);
    return { remove: () => this.forwardHooks.delete(hook) };
  }

  /** Adds a hook run before every `call`; returning an argument list replaces the inputs. */
  registerForwardPreHook(hook: ForwardPreHook<In, Out>): HookHandle {
    this.forwardPreHooks.add(hook);
    return { remove: () => this.forwardPreHooks.delete(hook) };
  }

  /** Frees every parameter, gradient and buffer of this module and its descendants. */
  dispose(): void {
    for (const e of this.stateEntries({ nonPersistent: true })) e.tensor.dispose();
  }

  /** The layer's settings for `toString()`, e.g. "16, 32, kernelSize=[3, 3]". */
  extraRepr(): string {
    return '';
  }

  /** A nested description like PyTorch's `print(model)`. */
  toString(): string {
    const head = `${this.typeName}(${this.extraRepr()}`;
    if (this.childSlots.size === 0) return `${head})`;
    const lines = [...this.childSlots].map(([name, child]) => `  (${name}): ${child.toString().replace(/\n/g, '\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }

  private checkName(name: string, what: string, own: Map<string, unknown>): void {
    if (typeof name !== 'string' || name === '' || name.includes('.')) {
      throw new Error(`${this.typeName}: ${what} name must be a non-empty string without ".", got ${JSON.stringify(name)}`);
    }
    const slots: Map<string, unknown>[] = [this.parameterSlots, this.bufferSlots, this.childSlots];
    for (const slot of slots) {
      if (slot !== own && slot.has(name)) throw new Error(`${this.typeName}: "${name}" is already registered as another kind of member`);
    }
  }
}

/**
 * The entries `present` says are absent that their module can default (`defaultForMissing`),
 * with those defaults: what a strict load fills in, from a state dict or a checkpoint file.
 */
export function missingDefaults<E extends StateEntry>(entries: readonly E[], present: (e: E) => boolean): [E, HostTensor][] {
  const out: [E, HostTensor][] = [];
  for (const e of entries) {
    const value = present(e) ? null : e.owner.defaultForMissing(e.localName);
    if (value) out.push([e, value]);
  }
  return out;
}
