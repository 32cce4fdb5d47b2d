import { shapeToString, squeeze, unsqueeze, type Tensor } from '@welford/core';

// What the 2-D layers (convolutions, pools) share: sizes given once or per axis, and inputs
// that are batched [N, C, H, W] or, as PyTorch also accepts, unbatched [C, H, W].

/** A size given once for both axes or as [height, width]. */
export type Size2d = number | readonly [number, number];

/** `value` as [height, width]; throws naming the layer and the option unless both are integers ≥ `min`. */
export function pairOf(layer: string, option: string, value: Size2d, min: number): [number, number] {
  const both: readonly unknown[] = typeof value === 'number' ? [value, value] : Array.isArray(value) ? value : [];
  if (both.length !== 2 || !both.every((v) => Number.isInteger(v) && (v as number) >= min)) {
    const what = min > 0 ? 'positive integer' : 'non-negative integer';
    throw new Error(`${layer}: ${option} must be a ${what} or a pair [height, width] of them, got ${JSON.stringify(value)}`);
  }
  return [both[0] as number, both[1] as number];
}

/** "[a, b]" for messages and `extraRepr`. */
export function pairText(p: readonly [number, number]): string {
  return `[${p[0]}, ${p[1]}]`;
}

/**
 * Checks a 2-D layer's input: 4-D [N, C, H, W] or 3-D unbatched [C, H, W], with `channels`
 * channels when given. Runs `fn` on the batched form and removes the batch dimension again
 * for an unbatched input. Errors name the layer, the shapes expected and the shape given.
 */
export function onImages(layer: string, x: Tensor, channels: number | null, fn: (batched: Tensor) => Tensor): Tensor {
  const c = channels ?? 'C';
  if (x.rank !== 3 && x.rank !== 4) {
    throw new Error(`${layer}: expected a 4-D input [N, ${c}, H, W] or a 3-D unbatched input [${c}, H, W], got ${x.rank}-D input of shape ${shapeToString(x.shape)}`);
  }
  const unbatched = x.rank === 3;
  const given = x.shape[unbatched ? 0 : 1];
  if (channels !== null && given !== channels) {
    const want = unbatched ? `[${channels}, H, W]` : `[N, ${channels}, H, W]`;
    throw new Error(`${layer}: expected input with ${channels} channels ${want}, got ${given} channels in input of shape ${shapeToString(x.shape)}`);
  }
  if (!unbatched) return fn(x);
  return squeeze(fn(unsqueeze(x, 0)), 0);
}
