// The clients' data of `welford federated`: disjoint shards of the training and test splits,
// made non-IID either by a brightness and contrast shift per client (a feature shift, the
// setting FedBN was made for) or by two classes per client (a label skew).
import { Random } from '@welford/core';
import { deriveSeed, intensityShifted, LabeledImages, permutation, quantizeDataset, subset, type IntensityShiftOptions } from '@welford/data';
import { RunError } from '../errors.ts';
import type { ShiftKind } from './federated_args.ts';

/** How one client's images differ from the others'. */
export type ClientShift = { kind: 'brightness'; brightness: number; contrast: number } | { kind: 'label'; classes: number[] };

/** One client's shards, already shifted and stored as bytes. */
export interface ClientData {
  client: number;
  shift: ClientShift;
  train: LabeledImages;
  test: LabeledImages;
}

/** Brightness lifts spread evenly over this range, one per client... */
export const BRIGHTNESS_RANGE = [-0.3, 0.3] as const;
/** ...paired (in a seeded order) with contrasts spread evenly over this one. */
export const CONTRAST_RANGE = [0.5, 1.5] as const;

/** "brightness -0.30, contrast 0.79" or "classes 2, 3". */
export function describeShift(shift: ClientShift): string {
  if (shift.kind === 'label') return `classes ${shift.classes.join(', ')}`;
  const sign = shift.brightness >= 0 ? '+' : '';
  return `brightness ${sign}${shift.brightness.toFixed(2)}, contrast ${shift.contrast.toFixed(2)}`;
}

/** K evenly spaced values from lo to hi (the middle for one). */
function spread([lo, hi]: readonly [number, number], k: number): number[] {
  if (k === 1) return [(lo + hi) / 2];
  return Array.from({ length: k }, (_, i) => lo + ((hi - lo) * i) / (k - 1));
}

/**
 * Each client's shift: client k gets the k-th of the brightness levels and a contrast level
 * drawn without replacement (seeded); or, for label skew, classes 2k and 2k + 1 (mod the number
 * of classes).
 */
export function clientShifts(kind: ShiftKind, clients: number, classes: number, seed: number): ClientShift[] {
  if (kind === 'label') return Array.from({ length: clients }, (_, k) => ({ kind: 'label', classes: [(2 * k) % classes, (2 * k + 1) % classes] }));
  const brightness = spread(BRIGHTNESS_RANGE, clients);
  const contrast = spread(CONTRAST_RANGE, clients);
  const order = permutation(clients, new Random(deriveSeed(seed, 1)));
  return brightness.map((b, k) => ({ kind: 'brightness', brightness: b, contrast: contrast[order[k]] }));
}

/** Disjoint index lists of `size` each: consecutive slices of a seeded permutation. */
function disjointShards(length: number, clients: number, size: number, rng: Random, split: string, flag: string): number[][] {
  if (clients * size > length) throw new RunError(`${clients} clients × ${size} images need ${clients * size} ${split} images; the split has ${length} (lower ${flag} or --clients)`);
  const order = permutation(length, rng);
  return Array.from({ length: clients }, (_, k) => order.slice(k * size, (k + 1) * size));
}

/**
 * Disjoint shards of `size` images for clients drawing from their own classes: half from each
 * of its two classes (the first class gets the odd one); clients that share a class share its
 * images out without overlap.
 */
function labelShards(set: LabeledImages, shifts: readonly ClientShift[], size: number, rng: Random, split: string, flag: string): number[][] {
  const pools = Array.from({ length: set.classes.length }, () => [] as number[]);
  for (const i of permutation(set.length, rng)) pools[set.labels[i]].push(i);
  const taken = pools.map(() => 0);
  return shifts.map((shift) => {
    const classes = (shift as { classes: number[] }).classes;
    return classes.flatMap((c, j) => {
      const n = j === 0 ? Math.ceil(size / 2) : Math.floor(size / 2);
      if (taken[c] + n > pools[c].length) throw new RunError(`the ${split} split has ${pools[c].length} images of class ${c}, fewer than the clients holding it need (${n} each); lower ${flag} or --clients`);
      const out = pools[c].slice(taken[c], taken[c] + n);
      taken[c] += n;
      return out;
    });
  });
}

function shardOf(set: LabeledImages, indices: readonly number[], shift: ClientShift): LabeledImages {
  if (shift.kind === 'label') return quantizeDataset(subset(set, indices));
  const options: IntensityShiftOptions = { brightness: shift.brightness, contrast: shift.contrast, center: 'mean', clip: true };
  // Shifted on [0, 1] intensities and stored back as bytes, as a camera would store them.
  return quantizeDataset(intensityShifted(subset(set, indices), options));
}

/** The clients' training and test shards (disjoint within each split), each with its client's shift. */
export function clientData(
  splits: { train: LabeledImages; test: LabeledImages },
  options: { clients: number; shift: ShiftKind; trainPerClient: number; testPerClient: number; seed: number },
): ClientData[] {
  const { clients, trainPerClient, testPerClient, seed } = options;
  const shifts = clientShifts(options.shift, clients, splits.train.classes.length, seed);
  const trainRng = new Random(deriveSeed(seed, 2));
  const testRng = new Random(deriveSeed(seed, 3));
  const [train, test] =
    options.shift === 'label'
      ? [labelShards(splits.train, shifts, trainPerClient, trainRng, 'training', '--train-per-client'), labelShards(splits.test, shifts, testPerClient, testRng, 'test', '--test-per-client')]
      : [disjointShards(splits.train.length, clients, trainPerClient, trainRng, 'training', '--train-per-client'), disjointShards(splits.test.length, clients, testPerClient, testRng, 'test', '--test-per-client')];
  return shifts.map((shift, k) => ({ client: k, shift, train: shardOf(splits.train, train[k], shift), test: shardOf(splits.test, test[k], shift) }));
}
