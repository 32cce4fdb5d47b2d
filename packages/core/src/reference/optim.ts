// CPU reference of the optimizer updates, following the algorithms in PyTorch's documentation
// of torch.optim.SGD, Adam and AdamW. Each function updates its arrays in place, computing
// every element in float64 and storing float32.

export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/**
 * One SGD step. `momentumBuffer` is null without momentum; `firstStep` says the buffer was
 * just created, in which case it starts as the (weight-decayed) gradient, undampened.
 */
export function sgdReference(param: Float32Array, grad: Float32Array, momentumBuffer: Float32Array | null, h: SgdHyper, firstStep: boolean): void {
  for (let i = 0; i < param.length; i++) {
    const p = param[i];
    let g = grad[i];
    if (h.weightDecay !== 0) g = g + h.weightDecay * p;
    if (h.momentum !== 0) {
      if (!momentumBuffer) throw new Error('sgdReference: momentum needs a momentum buffer');
      const b = firstStep ? g : h.momentum * momentumBuffer[i] + (1 - h.dampening) * g;
      momentumBuffer[i] = b;
      g = h.nesterov ? g + h.momentum * b : b;
    }
    param[i] = p - h.lr * g;
  }
}

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: the decay multiplies the parameter instead of joining the gradient. */
  decoupled: boolean;
}

/** One Adam (or AdamW) step; `step` is this parameter's step count including this step (1 first). */
export function adamReference(param: Float32Array, grad: Float32Array, expAvg: Float32Array, expAvgSq: Float32Array, step: number, h: AdamHyper): void {
  const biasCorrection1 = 1 - Math.pow(h.beta1, step);
  const biasCorrection2 = 1 - Math.pow(h.beta2, step);
  const stepSize = h.lr / biasCorrection1;
  for (let i = 0; i < param.length; i++) {
    let p = param[i];
    let g = grad[i];
    if (h.decoupled) p = p * (1 - h.lr * h.weightDecay);
    else if (h.weightDecay !== 0) g = g + h.weightDecay * p;
    const m = h.beta1 * expAvg[i] + (1 - h.beta1) * g;
    const v = h.beta2 * expAvgSq[i] + (1 - h.beta2) * g * g;
    expAvg[i] = m;
    expAvgSq[i] = v;
    const denom = Math.sqrt(v) / Math.sqrt(biasCorrection2) + h.eps;
    param[i] = p - (stepSize * m) / denom;
  }
}

/** Adds one to the step count of every slot listed. */
export function advanceStepReference(steps: Float32Array, slots: readonly number[]): void {
  for (const s of slots) steps[s] += 1;
}
