import { Tensor } from '../tensor/tensor.ts';
import { Optimizer } from './optimizer.ts';

/**
 * The learning rate each optimizer had before its first schedule (PyTorch's `initial_lr` of a
 * param group): every schedule built on an optimizer starts from it, whatever the schedules
 * built before it set `lr` to.
 */
const initialLrs = new WeakMap<Optimizer, number>();

/** What `stateDict()` returns and `loadStateDict()` takes. */
export interface LrSchedulerState {
  /** The schedule's class name; loading into another kind throws. */
  type: string;
  lastEpoch: number;
  baseLr: number;
  lastLr: number;
  /** The state of the schedule that follows a warm-up. */
  after?: LrSchedulerState;
}

/**
 * The base of the learning-rate schedules, `torch.optim.lr_scheduler` semantics for an
 * optimizer with one learning rate. Construction is PyTorch's initial step: `lastEpoch` is 0 and
 * `optimizer.lr` is the schedule's value at epoch 0. Each `step()` (after `optimizer.step()`)
 * advances `lastEpoch` by one and sets `optimizer.lr`. Schedules use PyTorch's closed forms of
 * the epoch, so they set the rate rather than multiply it: a schedule owns `optimizer.lr`.
 */
export abstract class LrScheduler {
  readonly optimizer: Optimizer;
  /** The optimizer's learning rate before any schedule (PyTorch's `base_lrs[0]`). */
  readonly baseLr: number;
  private epoch = -1;
  private last = 0;

  constructor(optimizer: Optimizer) {
    if (!(optimizer instanceof Optimizer)) throw new Error(`${this.name}: expected an Optimizer, got ${describe(optimizer)}`);
    this.optimizer = optimizer;
    if (!initialLrs.has(optimizer)) initialLrs.set(optimizer, optimizer.lr);
    this.baseLr = initialLrs.get(optimizer)!;
  }

  /** The schedule's name in error messages and state dicts; subclasses override this getter, which the constructor reads. */
  get name(): string {
    return 'LrScheduler';
  }

  /** The learning rate the schedule gives at `epoch` (0 at construction). */
  abstract lrAt(epoch: number): number;

  /** Steps taken since construction (PyTorch's `last_epoch`). */
  get lastEpoch(): number {
    return this.epoch;
  }

  /** The learning rate set by the last step (PyTorch's `get_last_lr()[0]`). */
  get lastLr(): number {
    return this.last;
  }

  /** Moves to the next epoch (or batch, as the training loop decides) and sets `optimizer.lr`. */
  step(): void {
    this.seek(this.epoch + 1);
  }

  /** A snapshot of the schedule's progress, to save beside a checkpoint. */
  stateDict(): LrSchedulerState {
    return { type: this.name, lastEpoch: this.epoch, baseLr: this.baseLr, lastLr: this.last };
  }

  /**
   * Resumes from `stateDict()`: restores the epoch and sets `optimizer.lr` to the saved rate
   * (this framework's optimizers save no learning rate of their own). Checks before it changes anything.
   */
  loadStateDict(state: LrSchedulerState): void {
    this.checkState(state);
    this.restore(state);
  }

  /** Checks a state dict for this schedule; throws naming the schedule and the bad field. */
  protected checkState(state: LrSchedulerState): void {
    const where = `${this.name}.loadStateDict`;
    if (state === null || typeof state !== 'object') throw new Error(`${where}: expected a state object, got ${describe(state)}`);
    if (state.type !== this.name) throw new Error(`${where}: the state is of a ${String(state.type)}, not a ${this.name}`);
    if (!Number.isInteger(state.lastEpoch) || state.lastEpoch < 0) throw new Error(`${where}: lastEpoch must be an integer >= 0, got ${String(state.lastEpoch)}`);
    if (typeof state.lastLr !== 'number' || !Number.isFinite(state.lastLr) || state.lastLr < 0) {
      throw new Error(`${where}: lastLr must be a finite number >= 0, got ${String(state.lastLr)}`);
    }
    if (state.baseLr !== this.baseLr) throw new Error(`${where}: the state's baseLr ${String(state.baseLr)} differs from this schedule's ${this.baseLr}`);
  }

  /** Writes a checked state. */
  protected restore(state: LrSchedulerState): void {
    this.epoch = state.lastEpoch;
    this.last = state.lastLr;
    this.optimizer.lr = state.lastLr;
  }

  /** Goes to `epoch` and sets the optimizer's rate; subclass constructors call `seek(0)` last. */
  protected seek(epoch: number): void {
    const lr = this.lrAt(epoch);
    this.optimizer.lr = lr;
    this.epoch = epoch;
    this.last = lr;
  }

  // A schedule that wraps another drives it through these (TypeScript lets a subclass reach
  // protected members only of its own instances).
  protected static seekOf(schedule: LrScheduler, epoch: number): void {
    schedule.seek(epoch);
  }

  protected static checkStateOf(schedule: LrScheduler, state: LrSchedulerState): void {
    schedule.checkState(state);
  }

  protected static restoreOf(schedule: LrScheduler, state: LrSchedulerState): void {
    schedule.restore(state);
  }
}

export interface StepLROptions {
  /** Epochs between decays. */
  stepSize: number;
  /** Factor of each decay (default 0.1). */
  gamma?: number;
}

/** `torch.optim.lr_scheduler.StepLR`: lr = baseLr · gamma^⌊epoch / stepSize⌋. */
export class StepLR extends LrScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Optimizer, options: StepLROptions) {
    super(optimizer);
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
    checkInteger(this.name, 'stepSize', this.stepSize, 1);
    checkFinite(this.name, 'gamma', this.gamma, 0);
    this.seek(0);
  }

  override get name(): string {
    return 'StepLR';
  }

  lrAt(epoch: number): number {
    return this.baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

export interface CosineAnnealingLROptions {
  /** Epochs of the half cosine from baseLr down to etaMin (it rises again after, as PyTorch's does). */
  tMax: number;
  /** The smallest rate (default 0). */
  etaMin?: number;
}

/**
 * `torch.optim.lr_scheduler.CosineAnnealingLR` in its closed form:
 * lr = etaMin + (baseLr − etaMin) · (1 + cos(π · epoch / tMax)) / 2.
 */
export class CosineAnnealingLR extends LrScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: Optimizer, options: CosineAnnealingLROptions) {
    super(optimizer);
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
    checkInteger(this.name, 'tMax', this.tMax, 1);
    checkFinite(this.name, 'etaMin', this.etaMin, 0);
    this.seek(0);
  }

  override get name(): string {
    return 'CosineAnnealingLR';
  }

  lrAt(epoch: number): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

export interface LinearWarmupOptions {
  /** Epochs of the linear ramp; the schedule `after` takes over at this epoch. */
  warmupSteps: number;
  /** Factor of baseLr at epoch 0, in [0, 1] (default 1/3, PyTorch's LinearLR default). */
  startFactor?: number;
  /** The schedule after the warm-up (built on the same optimizer); without one the rate stays at baseLr. */
  after?: LrScheduler;
}

/**
 * A linear warm-up from `startFactor · baseLr` to baseLr over `warmupSteps`, then another
 * schedule restarted at its epoch 0, as PyTorch's
 * `SequentialLR(opt, [LinearLR(opt, startFactor, 1, warmupSteps), after], milestones=[warmupSteps])`.
 */
export class LinearWarmup extends LrScheduler {
  readonly warmupSteps: number;
  readonly startFactor: number;
  readonly after: LrScheduler | null;

  constructor(optimizer: Optimizer, options: LinearWarmupOptions) {
    super(optimizer);
    this.warmupSteps = options.warmupSteps;
    this.startFactor = options.startFactor ?? 1 / 3;
    this.after = options.after ?? null;
    checkInteger(this.name, 'warmupSteps', this.warmupSteps, 1);
    checkFinite(this.name, 'startFactor', this.startFactor, 0, 1);
    if (this.after !== null) {
      if (!(this.after instanceof LrScheduler)) throw new Error(`${this.name}: after must be a schedule, got ${describe(this.after)}`);
      if (this.after.optimizer !== optimizer) throw new Error(`${this.name}: the schedule after the warm-up (${this.after.name}) belongs to another optimizer`);
    }
    this.seek(0);
  }

  override get name(): string {
    return 'LinearWarmup';
  }

  lrAt(epoch: number): number {
    if (epoch < this.warmupSteps) return this.baseLr * (this.startFactor + ((1 - this.startFactor) * epoch) / this.warmupSteps);
    return this.after ? this.after.lrAt(epoch - this.warmupSteps) : this.baseLr;
  }

  override stateDict(): LrSchedulerState {
    const state = super.stateDict();
    return this.after ? { ...state, after: this.after.stateDict() } : state;
  }

  protected override checkState(state: LrSchedulerState): void {
    super.checkState(state);
    if (this.after && state.after === undefined) throw new Error(`${this.name}.loadStateDict: the state has no "after" schedule for ${this.after.name}`);
    if (!this.after && state.after !== undefined) throw new Error(`${this.name}.loadStateDict: the state has an "after" schedule but this warm-up has none`);
    if (this.after && state.after) LrScheduler.checkStateOf(this.after, state.after);
  }

  protected override restore(state: LrSchedulerState): void {
    if (this.after && state.after) LrScheduler.restoreOf(this.after, state.after);
    super.restore(state);
  }

  protected override seek(epoch: number): void {
    // The following schedule keeps its own epoch, as SequentialLR's do.
    if (this.after && epoch >= this.warmupSteps) LrScheduler.seekOf(this.after, epoch - this.warmupSteps);
    super.seek(epoch);
  }
}

/**
 * Puts a linear warm-up of `warmupSteps` in front of `schedule` (see `LinearWarmup`); step the
 * returned schedule only.
 */
export function warmup(schedule: LrScheduler, options: Omit<LinearWarmupOptions, 'after'>): LinearWarmup {
  return new LinearWarmup(schedule.optimizer, { ...options, after: schedule });
}

function checkInteger(schedule: string, option: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new Error(`${schedule}: ${option} must be an integer >= ${min}, got ${String(value)}`);
}

function checkFinite(schedule: string, option: string, value: number, min: number, max = Infinity): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max < Infinity ? `in [${min}, ${max}]` : `>= ${min}`;
    throw new Error(`${schedule}: ${option} must be a finite number ${range}, got ${String(value)}`);
  }
}

/**
 * What a wrong argument is, for an error. A model passed by mistake names itself by its
 * `typeName` (a Module's declared name, which survives minification); anything else by its class.
 */
function describe(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value);
  if (value instanceof Tensor) return 'a Tensor';
  const typeName = (value as { typeName?: unknown }).typeName;
  if (typeof typeName === 'string') return typeName;
  return (value as object).constructor?.name ?? 'an object';
}
