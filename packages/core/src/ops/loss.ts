import type { Tensor } from '../tensor/tensor.ts';
import { crossEntropyBackwardProgram, crossEntropyProgram } from '../kernels/softmax.ts';
import { classIndexMessage, crossEntropyBackwardReference, crossEntropyReference } from '../reference/softmax.ts';
import { shapeToString, type Shape } from '../util/shape.ts';
import { runOp } from './dispatch.ts';
import { registerOp } from './registry.ts';

function checkCrossEntropy(logits: Shape, target: Shape): void {
  if (logits.length !== 2) throw new Error(`crossEntropy: expected logits of shape [N, K], got ${shapeToString(logits)}`);
  if (logits[1] === 0) throw new Error(`crossEntropy: logits need at least one class, got shape ${shapeToString(logits)}`);
  if (target.length !== 1 || target[0] !== logits[0]) {
    throw new Error(`crossEntropy: expected target of shape [${logits[0]}], got ${shapeToString(target)}`);
  }
}

registerOp<Record<string, never>>({
  name: 'crossEntropy',
  shape: ([logits, target]) => {
    checkCrossEntropy(logits, target);
    return [];
  },
  cpu: ([logits, target], out) => crossEntropyReference(logits, target, out),
  gpu: ([logits, target], out) => [crossEntropyProgram(logits, target, out)],
  indexChecks: ([logits]) => [{ input: 1, limit: logits[1], message: (v) => classIndexMessage('crossEntropy', v, logits[1]) }],
  backward: ({ grad, inputs: [logits, target] }) => [runOp('crossEntropyBackward', [logits, target, grad], {}), null],
});

// Inputs: logits, targets and the gradient of the loss; output: the gradient of the logits.
registerOp<Record<string, never>>({
  name: 'crossEntropyBackward',
  shape: ([logits, target]) => {
    checkCrossEntropy(logits, target);
    return logits;
  },
  cpu: ([logits, target, grad], dlogits) => crossEntropyBackwardReference(logits, target, grad, dlogits),
  gpu: ([logits, target, grad], dlogits) => [crossEntropyBackwardProgram(logits, target, grad, dlogits)],
});

/**
 * Mean cross-entropy between logits [N, K] (unnormalized scores) and target [N] (class
 * indices stored as floats): mean over rows of logsumexp(logits[n]) − logits[n, target[n]],
 * as torch.nn.functional.cross_entropy with reduction 'mean'. The result is 0-d. Targets must
 * be integers in [0, K) (no ignore_index): another value is an error on every backend, raised
 * by this call on the CPU and by the next read of a value on the GPU (which checks beside the
 * kernel, so that no step waits).
 * Forward and backward are one fused kernel each; the target gets no gradient.
 */
export function crossEntropy(logits: Tensor, target: Tensor): Tensor {
  return runOp('crossEntropy', [logits, target], {});
}
