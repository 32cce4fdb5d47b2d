import { shapeToString, type Tensor } from '@welford/core';

/** Throws unless `value` is a positive integer, naming the layer and the option. */
export function checkPositiveInt(layer: string, option: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${layer}: ${option} must be a positive integer, got ${String(value)}`);
}

/** Throws unless `value` is a finite number (in [min, max] when given). */
export function checkNumber(layer: string, option: string, value: number, min = -Infinity, max = Infinity): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = min > -Infinity || max < Infinity ? ` in [${min}, ${max}]` : '';
    throw new Error(`${layer}: ${option} must be a finite number${range}, got ${String(value)}`);
  }
}

const SPATIAL: Record<number, string[]> = { 2: [], 3: ['L'], 4: ['H', 'W'], 5: ['D', 'H', 'W'] };

/**
 * Checks an image-like input (N, C, ...spatial) for a layer: `ranks` lists the accepted ranks and
 * `channels` the channel count. The message names the layer, the expected shape and the shape given.
 */
export function checkChannels(layer: string, x: Tensor, ranks: readonly number[], channels: number): void {
  const expected = ranks.map((r) => `[${['N', channels, ...SPATIAL[r]].join(', ')}]`).join(' or ');
  if (!ranks.includes(x.rank)) throw new Error(`${layer}: expected a ${ranks.join('-D or ')}-D input ${expected}, got ${x.rank}-D input of shape ${shapeToString(x.shape)}`);
  if (x.shape[1] !== channels) throw new Error(`${layer}: expected input with ${channels} channels ${expected}, got ${x.shape[1]} channels in input of shape ${shapeToString(x.shape)}`);
}
