import { describe, expect, it } from 'vitest';
import { planLine, progressLine, timeLeft } from '../src/lab/plan_text.ts';

const plan = { shows: 'Test accuracy against batch size.', networks: 6, steps: 600 };

describe("the lab's plan and time left", () => {
  it('says at the start what the run shows and how much work it is', () => {
    expect(planLine(plan, true)).toBe('This quick run trains 6 networks, 600 optimizer steps in all; the time left shows once it has measured its speed. It shows: Test accuracy against batch size.');
    expect(planLine({ shows: 'A table.', networks: 0, steps: 0 }, false)).toBe('This full-size run measures without training, in a few seconds. It shows: A table.');
  });

  it('estimates the time left from the steps done, once enough is done to tell', () => {
    expect(timeLeft(plan, 0, 10)).toBe('');
    expect(timeLeft(plan, 100, 2)).toBe('');
    expect(timeLeft(plan, 10, 20)).toBe('');
    expect(timeLeft(plan, 300, 30)).toBe('about 30 s left');
    expect(timeLeft(plan, 60, 30)).toBe('about 5 min left');
    expect(timeLeft(plan, 600, 60)).toBe('about 1 s left');
  });

  it('writes the running line with the plan’s steps', () => {
    expect(progressLine(plan, false, 300, 4800, 30)).toBe('running · 30 s · 300 of 600 steps, 4800 samples · about 30 s left');
    expect(progressLine(plan, true, 600, 9600, 61.2)).toBe('done · 61 s · 600 of 600 steps, 9600 samples');
    expect(progressLine({ ...plan, networks: 0, steps: 0 }, true, 0, 0, 2)).toBe('done · 2 s');
  });
});
