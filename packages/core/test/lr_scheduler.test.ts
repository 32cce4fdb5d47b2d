import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as w from '../src/index.ts';
import type { LrScheduler, Optimizer } from '../src/index.ts';
import { cpuBackend, expectClose } from './helpers.ts';

interface ScheduleCase {
  id: string;
  kind: string;
  options: Record<string, number | Record<string, number>>;
  lr: number;
  lrs: number[];
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/lr_schedules.json', import.meta.url), 'utf8')) as { schedules: ScheduleCase[] };

// Schedules only touch optimizer.lr: a CPU parameter keeps these tests off the GPU.
beforeAll(() => {
  w.setBackend(cpuBackend());
});

const sgd = (lr: number): Optimizer => new w.SGD([w.fromArray([0], [1], { requiresGrad: true })], { lr });

/** Builds the schedule a fixture case describes, as a user would. */
function build(c: ScheduleCase, opt: Optimizer): LrScheduler {
  const o = c.options as Record<string, number>;
  const after = c.options.after as Record<string, number> | undefined;
  switch (c.kind) {
    case 'StepLR':
      return new w.StepLR(opt, { stepSize: o.stepSize, gamma: o.gamma });
    case 'CosineAnnealingLR':
      return new w.CosineAnnealingLR(opt, { tMax: o.tMax, etaMin: o.etaMin });
    case 'LinearWarmup':
      return new w.LinearWarmup(opt, { warmupSteps: o.warmupSteps, startFactor: o.startFactor });
    case 'LinearWarmup+CosineAnnealingLR':
      return w.warmup(new w.CosineAnnealingLR(opt, { tMax: after!.tMax, etaMin: after!.etaMin }), { warmupSteps: o.warmupSteps, startFactor: o.startFactor });
    case 'LinearWarmup+StepLR':
      return w.warmup(new w.StepLR(opt, { stepSize: after!.stepSize, gamma: after!.gamma }), { warmupSteps: o.warmupSteps, startFactor: o.startFactor });
    default:
      throw new Error(`unknown schedule kind ${c.kind}`);
  }
}

describe('learning-rate schedules against torch.optim.lr_scheduler', () => {
  it('the fixture covers every schedule', () => {
    expect(new Set(fixture.schedules.map((c) => c.kind))).toEqual(new Set(['StepLR', 'CosineAnnealingLR', 'LinearWarmup', 'LinearWarmup+CosineAnnealingLR', 'LinearWarmup+StepLR']));
  });

  for (const c of fixture.schedules) {
    it(`${c.id}: lastLr and optimizer.lr after construction and each step`, () => {
      const opt = sgd(c.lr);
      const s = build(c, opt);
      const got = [s.lastLr];
      const seen = [opt.lr];
      expect(s.lastEpoch).toBe(0);
      for (let i = 1; i < c.lrs.length; i++) {
        s.step();
        expect(s.lastEpoch).toBe(i);
        got.push(s.lastLr);
        seen.push(opt.lr);
      }
      // PyTorch multiplies step by step where welford evaluates closed forms: rounding only.
      expectClose(got, c.lrs, 1e-15, 1e-12, `${c.id} lastLr`);
      expect(seen).toEqual(got);
      expect(s.baseLr).toBe(c.lr);
    });
  }
});

describe('schedule state', () => {
  it('a schedule restored from stateDict continues where the saved one was, and sets optimizer.lr', () => {
    const make = (opt: Optimizer) => w.warmup(new w.CosineAnnealingLR(opt, { tMax: 6, etaMin: 0.01 }), { warmupSteps: 4, startFactor: 0.25 });
    const a = make(sgd(0.1));
    for (let i = 0; i < 7; i++) a.step();
    const state = JSON.parse(JSON.stringify(a.stateDict())) as w.LrSchedulerState;
    expect(state).toMatchObject({ type: 'LinearWarmup', lastEpoch: 7, after: { type: 'CosineAnnealingLR', lastEpoch: 3 } });

    const opt = sgd(0.1);
    const b = make(opt);
    b.loadStateDict(state);
    expect(b.lastEpoch).toBe(7);
    expect(opt.lr).toBe(a.lastLr);
    expect(b.after!.lastEpoch).toBe(3);
    a.step();
    b.step();
    expect(b.lastLr).toBe(a.lastLr);
    expect(opt.lr).toBe(a.lastLr);
  });

  it('loading a state of another kind, or a bad one, throws and changes nothing', () => {
    const opt = sgd(0.1);
    const s = new w.StepLR(opt, { stepSize: 2, gamma: 0.5 });
    s.step();
    const cosine = new w.CosineAnnealingLR(sgd(0.1), { tMax: 3 }).stateDict();
    expect(() => s.loadStateDict(cosine)).toThrow(/StepLR\.loadStateDict: the state is of a CosineAnnealingLR, not a StepLR/);
    expect(() => s.loadStateDict({ ...s.stateDict(), lastEpoch: -2 })).toThrow(/lastEpoch must be an integer >= 0, got -2/);
    expect(() => s.loadStateDict({ ...s.stateDict(), baseLr: 0.2 })).toThrow(/baseLr 0\.2 differs from this schedule's 0\.1/);
    const warm = w.warmup(new w.StepLR(sgd(0.1), { stepSize: 1 }), { warmupSteps: 2 });
    expect(() => warm.loadStateDict({ ...warm.stateDict(), after: undefined })).toThrow(/no "after" schedule for StepLR/);
    expect(s.lastEpoch).toBe(1);
    expect(opt.lr).toBe(0.1);
  });
});

describe('schedule options', () => {
  it('bad options name the schedule, the option and the value', () => {
    expect(() => new w.StepLR(sgd(0.1), { stepSize: 0 })).toThrow(/StepLR: stepSize must be an integer >= 1, got 0/);
    expect(() => new w.StepLR(sgd(0.1), { stepSize: 2, gamma: -1 })).toThrow(/StepLR: gamma must be a finite number >= 0, got -1/);
    expect(() => new w.CosineAnnealingLR(sgd(0.1), { tMax: 2.5 })).toThrow(/CosineAnnealingLR: tMax must be an integer >= 1, got 2\.5/);
    expect(() => new w.LinearWarmup(sgd(0.1), { warmupSteps: 3, startFactor: 1.5 })).toThrow(/LinearWarmup: startFactor must be a finite number in \[0, 1\], got 1\.5/);
    const other = new w.StepLR(sgd(0.1), { stepSize: 1 });
    expect(() => new w.LinearWarmup(sgd(0.1), { warmupSteps: 2, after: other })).toThrow(/belongs to another optimizer/);
    expect(() => new w.StepLR({} as Optimizer, { stepSize: 1 })).toThrow(/StepLR: expected an Optimizer, got Object/);
    // A model passed instead of its optimizer is named by its typeName, which minification keeps.
    const model = Object.defineProperty(class { readonly typeName = 'SmallCnn'; }, 'name', { value: 't' });
    expect(() => new w.StepLR(new model() as unknown as Optimizer, { stepSize: 1 })).toThrow(/StepLR: expected an Optimizer, got SmallCnn$/);
    expect(() => new w.StepLR(w.fromArray([0.1], [1]) as unknown as Optimizer, { stepSize: 1 })).toThrow(/StepLR: expected an Optimizer, got a Tensor$/);
  });

  it('a schedule built after another starts from the optimizer’s initial rate (PyTorch’s initial_lr)', () => {
    const opt = sgd(0.2);
    const first = new w.StepLR(opt, { stepSize: 1, gamma: 0.5 });
    first.step();
    expect(opt.lr).toBe(0.1);
    const second = new w.CosineAnnealingLR(opt, { tMax: 4 });
    expect(second.baseLr).toBe(0.2);
    expect(opt.lr).toBe(0.2);
  });

  it('lrAt gives the rate of any epoch without stepping', () => {
    const s = new w.StepLR(sgd(1), { stepSize: 10, gamma: 0.1 });
    expect(s.lrAt(25)).toBeCloseTo(0.01, 15);
    expect(s.lastEpoch).toBe(0);
  });
});
