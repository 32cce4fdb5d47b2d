import { dropoutProgram, type DropoutMask } from '../kernels/dropout.ts';
import { dropoutReference } from '../reference/dropout.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { defaultRandom } from '../util/random.ts';
import { runOp } from './dispatch.ts';
import { registerOp } from './registry.ts';

registerOp<DropoutMask>({
  name: 'dropout',
  shape: ([x]) => x,
  cpu: ([x], out, mask) => dropoutReference(x, out, mask),
  gpu: ([x], out, mask) => [dropoutProgram(x, out, mask)],
  // y = x · m with the mask m fixed by the seed, so dx = grad · m: the same op on the gradient,
  // which draws the same mask again instead of keeping it in memory.
  backward: ({ grad, attrs }) => [runOp<DropoutMask>('dropout', [grad], attrs)],
});

export interface DropoutOptions {
  /**
   * Chooses the mask: an integer in [0, 2^32). The same seed gives the same mask on every
   * backend. Default: drawn from the global generator, so `manualSeed` makes runs reproducible
   * and successive calls differ.
   */
  seed?: number;
}

/**
 * Dropout (torch.nn.functional.dropout in training mode): each element is zeroed with
 * probability `p` and the others are scaled by 1 / (1 − p), so the expected value is unchanged.
 * p = 0 copies the input; p = 1 gives zeros (NaN stays NaN, as in PyTorch). Whether element i
 * (row-major) is kept is a hash of (seed, i), identical on the GPU and the CPU reference; the
 * gradient is the upstream gradient times the same mask. The masks differ from PyTorch's, whose
 * generator is another.
 */
export function dropout(x: Tensor, p: number, options: DropoutOptions = {}): Tensor {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new Error(`dropout: p must be a probability in [0, 1], got ${String(p)} (input of shape [${x.shape.join(', ')}])`);
  const { seed = defaultRandom().nextUint32() } = options;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`dropout: seed must be an integer in [0, 2^32), got ${String(seed)}`);
  const mask: DropoutMask = {
    seed,
    // Draws are 24-bit integers r; keeping r >= ⌈p · 2^24⌉ keeps each element with probability 1 − p (to 2^-24).
    threshold: Math.ceil(p * 2 ** 24),
    // The float32 factor the GPU multiplies by; with it the reference's product rounds to the same value.
    scale: p === 1 ? 0 : Math.fround(1 / (1 - p)),
  };
  return runOp<DropoutMask>('dropout', [x], mask);
}
