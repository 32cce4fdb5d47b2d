import { isGradEnabled } from '../autograd/grad_mode.ts';
import type { DeferredWrite } from '../backend/backend.ts';
import { Tensor } from '../tensor/tensor.ts';
import { shapeToString, sizeOf, type Shape } from '../util/shape.ts';
import type { ProcessGroup } from './collective.ts';

/**
 * The step under every op that communicates: reads `input` (the copy is recorded now), hands
 * the values to `combine` (which talks to the other replicas, asynchronously), and returns
 * tensors of `shapes` on the same device, filled with what `combine` gives. Nothing waits:
 * work recorded after this call is held on the device until the results are written, so
 * forward and backward stay synchronous. If `combine` fails, the held work is dropped and
 * whoever reads a value that depended on it gets the error.
 */
export function exchange(op: string, input: Tensor, shapes: Shape[], combine: (values: Float32Array) => Promise<Float32Array[]>): Tensor[] {
  if (isGradEnabled() && input.requiresGrad) {
    throw new Error(`${op}: communication between replicas is not differentiable here; call it under noGrad() (input of shape ${shapeToString(input.shape)} requires grad)`);
  }
  const backend = input.backendFor(op);
  const outputs = shapes.map((s) => Tensor.fromStorage(s, backend, backend.alloc(sizeOf(s))));
  // read() records its copy before it returns, ahead of the hold below: the values are those of this point.
  const reading = backend.read(input.storageFor(op));
  let pending: DeferredWrite;
  try {
    pending = backend.deferWrite(outputs.map((t) => t.storageFor(op)));
  } catch (e) {
    reading.catch(() => undefined);
    for (const t of outputs) t.dispose();
    throw new Error(`${op}: ${(e as Error).message}`);
  }
  const abort = (e: unknown): void => pending.abort(e instanceof Error ? e : new Error(String(e)));
  reading
    .then(combine)
    .then((results) => pending.write(results))
    .catch(abort);
  return outputs;
}

/**
 * The elementwise sum of `x` over every replica of `group`, as a new tensor on x's device
 * (an all-reduce). Every replica must call it, in the same order as its other collectives.
 */
export function allReduceSum(x: Tensor, group: ProcessGroup): Tensor {
  return exchange('allReduceSum', x, [x.shape], async (values) => [await group.collective.allReduceSum(group.rank, values)])[0];
}
