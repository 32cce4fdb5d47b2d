import { isGradEnabled } from '../tensor/grad_mode.ts';
import type { Backend, DeferredWrite } from '../backend/backend.ts';
import { Tensor } from '../tensor/tensor.ts';
import { shapeToString, sizeOf, type Shape } from '../util/shape.ts';
import { CollectiveAborted, type ProcessGroup } from './collective.ts';

/**
 * Values of `input` passed through the host into new tensors of `shapes` on `target`: the read
 * is recorded on input's device now, `transform` gets the values (and may talk to other
 * replicas, asynchronously), and work recorded on `target` after this call is held until the
 * results are written. Nothing waits, so forward and backward stay synchronous. If `transform`
 * fails, the held work is dropped and whoever reads a value that depended on it gets the error.
 */
export function relay(op: string, input: Tensor, target: Backend, shapes: Shape[], transform: (values: Float32Array) => Float32Array[] | Promise<Float32Array[]>): Tensor[] {
  if (isGradEnabled() && input.requiresGrad) {
    throw new Error(`${op}: moving values between devices or replicas is not differentiable here; call it under noGrad() (input of shape ${shapeToString(input.shape)} requires grad)`);
  }
  const outputs = shapes.map((s) => Tensor.fromStorage(s, target, target.alloc(sizeOf(s), { op, shape: s })));
  // read() records its copy before it returns, ahead of the hold below: the values are those of this point.
  const reading = input.backendFor(op).read(input.storageFor(op));
  let pending: DeferredWrite;
  try {
    pending = target.deferWrite(outputs.map((t) => t.storageFor(op)));
  } catch (e) {
    reading.catch(() => undefined);
    for (const t of outputs) t.dispose();
    throw new Error(`${op}: ${(e as Error).message}`);
  }
  reading
    .then(transform)
    .then((results) => pending.write(results))
    .catch((e: unknown) => pending.abort(e instanceof Error ? e : new Error(String(e)), e instanceof CollectiveAborted));
  return outputs;
}

/**
 * The step under every op that communicates: `input`'s values go to `combine` (which talks to
 * the other replicas) and its results come back as tensors of `shapes` on input's device (see relay).
 */
export function exchange(op: string, input: Tensor, shapes: Shape[], combine: (values: Float32Array) => Promise<Float32Array[]>): Tensor[] {
  return relay(op, input, input.backendFor(op), shapes, combine);
}

/** This replica's collective calls, bound to its rank and to the generation current now (when the call is recorded). */
export interface RecordedCalls {
  allReduceSum(data: Float32Array): Promise<Float32Array>;
  allGather(data: Float32Array): Promise<Float32Array[]>;
}

/**
 * The calls an exchange recorded now will make later: if the collective is aborted in between
 * (a replica failed mid-step), they fail instead of waiting for ranks that will never call.
 */
export function recordedCalls({ collective, rank }: ProcessGroup): RecordedCalls {
  const generation = collective.generation;
  return {
    allReduceSum: (data) => collective.allReduceSum(rank, data, generation),
    allGather: (data) => collective.allGather(rank, data, generation),
  };
}

/**
 * The elementwise sum of `x` over every replica of `group`, as a new tensor on x's device
 * (an all-reduce). Every replica must call it, in the same order as its other collectives.
 */
export function allReduceSum(x: Tensor, group: ProcessGroup): Tensor {
  const calls = recordedCalls(group);
  return exchange('allReduceSum', x, [x.shape], async (values) => [await calls.allReduceSum(values)])[0];
}
