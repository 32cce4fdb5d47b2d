import { describe, expect, it } from 'vitest';
import { listed } from '../src/format.ts';
import { EXPERIMENTS } from '../src/index.ts';

// Plans are pure arithmetic on an experiment's settings: checked here without running anything.
// That a plan's steps equal a finished run's `work.steps` is checked beside each experiment's run.
describe('plan', () => {
  for (const experiment of EXPERIMENTS) {
    it(`${experiment.name}: says what it shows and how much it trains, full at least as much as quick`, () => {
      const quick = experiment.plan({ quick: true });
      const full = experiment.plan();
      expect(full).toEqual(experiment.plan({ quick: false, seed: 7 }));
      for (const plan of [quick, full]) {
        expect(plan.shows.trim().length).toBeGreaterThan(20);
        expect(plan.shows.endsWith('.')).toBe(true);
        expect(Number.isInteger(plan.networks)).toBe(true);
        expect(Number.isInteger(plan.steps)).toBe(true);
        expect(plan.networks).toBeGreaterThanOrEqual(0);
        expect(plan.steps).toBeGreaterThanOrEqual(0);
        // Steps come from training networks, and every network trained takes at least one.
        expect(plan.steps > 0).toBe(plan.networks > 0);
        expect(plan.steps).toBeGreaterThanOrEqual(plan.networks);
      }
      expect(full.steps).toBeGreaterThanOrEqual(quick.steps);
      expect(full.networks).toBeGreaterThanOrEqual(quick.networks);
    });
  }

  it('lists settings as a sentence does', () => {
    expect(listed([32])).toBe('32');
    expect(listed([2, 32])).toBe('2 and 32');
    expect(listed([1, 2, 4, 8])).toBe('1, 2, 4 and 8');
  });
});
