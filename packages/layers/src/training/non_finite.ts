/** Where a non-finite loss was seen. */
export interface NonFiniteInfo {
  /** The optimizer step whose loss was read (1 is the first step of `fit`). */
  step: number;
  /** The epoch of that step (0 is the first). */
  epoch: number;
  /** The value read: NaN, Infinity or -Infinity. */
  loss: number;
  /**
   * True when the value is an epoch's mean loss (no per-step reading caught it earlier): the loss
   * went non-finite somewhere in the epoch's steps `firstStep`..`step`.
   */
  epochMean: boolean;
  /** The first step of the epoch, for an epoch mean. */
  firstStep: number;
}

/**
 * Thrown by `fit` when a loss it reads is NaN or infinite. Training stops; the parameters are
 * left as they are (most likely non-finite too). `detail` is what `onNonFinite` returned, such
 * as the first layer whose statistics went non-finite.
 */
export class NonFiniteLossError extends Error {
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
  readonly epochMean: boolean;
  readonly detail: string | null;

  constructor(info: NonFiniteInfo, detail: string | null = null) {
    const where = info.epochMean
      ? `the mean loss of epoch ${info.epoch} (steps ${info.firstStep} to ${info.step}) is ${info.loss}; read the loss more often (readEvery) to find the step`
      : `the loss at step ${info.step} (epoch ${info.epoch}) is ${info.loss}`;
    super(`fit: ${where}${detail ? `: ${detail}` : ''}`);
    this.name = 'NonFiniteLossError';
    this.step = info.step;
    this.epoch = info.epoch;
    this.loss = info.loss;
    this.epochMean = info.epochMean;
    this.detail = detail;
  }
}
