// How many steps and calls the benchmark page times: quick mode keeps two samples where steps
// are fast enough and takes one where a single step or call takes many seconds.
import { describe, expect, it } from 'vitest';
import { makePlan, samplesFor } from './timing.ts';
import { chooseLayout } from './training.ts';

describe('benchmark sampling plans', () => {
  const quick = makePlan(true);
  const full = makePlan(false);

  it('quick mode: 2 samples of one step and 1 of 2 pipelined steps while those 4 steps fit 40 s', () => {
    expect(chooseLayout(quick, 500)).toEqual({ samples: 2, pipelinedSamples: 1, pipelinedSteps: 2, perStepReps: 1 });
    expect(chooseLayout(quick, 10_000)).toEqual({ samples: 2, pipelinedSamples: 1, pipelinedSteps: 2, perStepReps: 1 });
    // A fast step is repeated within a sample until it lasts about 50 ms.
    expect(chooseLayout(quick, 5)).toEqual({ samples: 2, pipelinedSamples: 1, pipelinedSteps: 2, perStepReps: 10 });
  });

  it('quick mode: 1 sample of one step and 1 of 2 pipelined steps where a step takes over 10 s', () => {
    expect(chooseLayout(quick, 10_001)).toEqual({ samples: 1, pipelinedSamples: 1, pipelinedSteps: 2, perStepReps: 1 });
    expect(chooseLayout(quick, 25_000)).toEqual({ samples: 1, pipelinedSamples: 1, pipelinedSteps: 2, perStepReps: 1 });
  });

  it('quick mode: batch norm takes 2 samples, 1 where a call takes over 5 s', () => {
    expect(samplesFor(quick, 400)).toBe(2);
    expect(samplesFor(quick, 5_000)).toBe(2);
    expect(samplesFor(quick, 11_000)).toBe(1);
  });

  it('full mode is unchanged: 7 samples of 20 pipelined steps on a GPU, 3 of 4 on SwiftShader; 3 samples of calls over a second', () => {
    expect(chooseLayout(full, 2)).toMatchObject({ samples: 7, pipelinedSamples: 7, pipelinedSteps: 20 });
    expect(chooseLayout(full, 2_000)).toMatchObject({ samples: 3, pipelinedSamples: 3, pipelinedSteps: 4 });
    expect(samplesFor(full, 100)).toBe(7);
    expect(samplesFor(full, 2_000)).toBe(3);
  });
});
