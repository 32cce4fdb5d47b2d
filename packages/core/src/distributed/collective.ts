/**
 * Communication among the replicas of a data-parallel run, as a collective library offers it
 * (NCCL, MPI, Gloo): every rank calls the same collectives in the same order with arrays of the
 * same length, and each call is matched with the calls of the other ranks at the same position.
 * Results are host arrays; `exchange.ts` turns them into tensors on each replica's device.
 *
 * Implementations: `InProcessCollective` (replicas in one JavaScript thread, each with its own
 * GPUDevice). docs/distributed.md describes how the interface maps onto a collective library
 * across processes and machines.
 */
export interface Collective {
  /** The number of ranks (replicas). */
  readonly size: number;
  /**
   * Elementwise sum over the ranks, the same on every rank (NCCL/MPI all-reduce with sum).
   * `generation`: the one the call was recorded in (see `abort`); a call of an aborted
   * generation fails at once.
   */
  allReduceSum(rank: number, data: Float32Array, generation?: number): Promise<Float32Array>;
  /** Every rank's array, in rank order, on every rank (NCCL/MPI all-gather); `generation` as above. */
  allGather(rank: number, data: Float32Array, generation?: number): Promise<Float32Array[]>;
  /** Counts aborts (0 at first); calls recorded before an abort carry the generation they were recorded in. */
  readonly generation?: number;
  /**
   * Fails every call still waiting for other ranks, and every later call of the current
   * generation (recorded before this, made after), with `error`; then starts a new generation
   * whose calls are counted afresh (NCCL's ncclCommAbort, then a new communicator). What a
   * caller does when a replica failed in the middle of a step, so that the others do not wait
   * for it forever. Optional.
   */
  abort?(error: Error): void;
}

/** What calls still waiting get when a collective is aborted (the one who aborted reports it). */
export class CollectiveAborted extends Error {
  override name = 'CollectiveAborted';
}

/** One replica's place in a collective: what ops that communicate are given. */
export interface ProcessGroup {
  readonly collective: Collective;
  readonly rank: number;
}

/** Throws unless `rank` is an integer in [0, size). */
export function checkRank(what: string, rank: number, size: number): void {
  if (!Number.isInteger(rank) || rank < 0 || rank >= size) throw new Error(`${what}: rank must be an integer in [0, ${size}), got ${String(rank)}`);
}
