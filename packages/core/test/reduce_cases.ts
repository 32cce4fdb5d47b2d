import * as w from '../src/index.ts';
import type { Tensor } from '../src/index.ts';

/** Axes as the public reductions take them. */
export type Axes = number | number[] | undefined;
export type Reduce = (x: Tensor, axes: Axes, keepDims: boolean) => Tensor;

/** Every public reduction, named, with one signature, for tests that run them all. */
export const reductions: [string, Reduce][] = [
  ['sum', (x, a, k) => w.sum(x, a, k)],
  ['mean', (x, a, k) => w.mean(x, a, k)],
  ['max', (x, a, k) => w.max(x, a, k)],
  ['min', (x, a, k) => w.min(x, a, k)],
  ['variance', (x, a, k) => w.variance(x, a, { keepDims: k })],
  ['variance correction 0', (x, a, k) => w.variance(x, a, { correction: 0, keepDims: k })],
  ['std', (x, a, k) => w.std(x, a, { keepDims: k })],
];

export const size = (shape: number[]): number => shape.reduce((p, d) => p * d, 1);
