// Reading one number back from the device, freeing the tensor that held it.
import { mean, noGrad, type Tensor } from '@welford/core';

/** The value of the one-element tensor `t`, read back; `t` is disposed afterwards. */
export async function readScalar(t: Tensor): Promise<number> {
  try {
    return await t.item();
  } finally {
    t.dispose();
  }
}

/** The mean of every element of `t`, computed on the device and read back (`t` is kept). */
export function readMean(t: Tensor): Promise<number> {
  return readScalar(noGrad(() => mean(t)));
}
