import type { ImageShape, Normalization } from './types.ts';

/** Throws unless `value` is a positive integer, naming the owner and the option. */
export function checkPositiveInt(owner: string, option: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${owner}: ${option} must be a positive integer, got ${String(value)}`);
}

/** Throws unless `value` is a finite number in [min, max]. */
export function checkNumber(owner: string, option: string, value: number, min = -Infinity, max = Infinity): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = min > -Infinity || max < Infinity ? ` in [${min}, ${max}]` : '';
    throw new Error(`${owner}: ${option} must be a finite number${range}, got ${String(value)}`);
  }
}

/** Throws unless `value` is a finite number above 0. */
export function checkPositive(owner: string, option: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new Error(`${owner}: ${option} must be a positive finite number, got ${String(value)}`);
}

/** Throws unless `index` is an integer in [0, length). */
export function checkIndex(owner: string, index: number, length: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new Error(`${owner}: index ${String(index)} is out of range for a dataset of ${length} samples`);
  }
}

/** Throws unless mean and std have one entry per channel and every std is positive. */
export function checkNormalization(owner: string, norm: Normalization, shape: ImageShape): void {
  const c = shape[0];
  if (norm.mean.length !== c || norm.std.length !== c) {
    throw new Error(`${owner}: normalization needs ${c} mean and ${c} std values for images of shape [${shape.join(', ')}], got ${norm.mean.length} and ${norm.std.length}`);
  }
  norm.mean.forEach((m) => checkNumber(owner, 'normalization mean', m));
  norm.std.forEach((s) => checkPositive(owner, 'normalization std', s));
}

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
