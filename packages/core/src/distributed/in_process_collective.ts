import { checkRank, CollectiveAborted, type Collective } from './collective.ts';

interface Round {
  /** 'mixed' when ranks called different collectives at this position. */
  kind: 'sum' | 'gather' | 'mixed';
  readonly contributions: (Float32Array | undefined)[];
  readonly waiters: { resolve: (arrays: Float32Array[]) => void; reject: (e: Error) => void }[];
  arrived: number;
}

/**
 * A collective among replicas that live in one JavaScript thread (each with its own device):
 * the n-th call of every rank forms round n; when all ranks have arrived the round completes
 * for all of them. Sums are taken in float64, in rank order, so every rank gets the same bits.
 * A round whose calls disagree (different collectives or lengths) fails on every rank.
 */
export class InProcessCollective implements Collective {
  private readonly rounds = new Map<number, Round>();
  private readonly calls: number[];
  private aborted: { generation: number; error: CollectiveAborted } | null = null;
  generation = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`InProcessCollective: size must be a positive integer, got ${String(size)}`);
    this.calls = new Array<number>(size).fill(0);
  }

  async allReduceSum(rank: number, data: Float32Array, generation?: number): Promise<Float32Array> {
    const arrays = await this.join('sum', rank, data, generation);
    const out = new Float64Array(data.length);
    for (const a of arrays) for (let i = 0; i < a.length; i++) out[i] += a[i];
    return Float32Array.from(out);
  }

  async allGather(rank: number, data: Float32Array, generation?: number): Promise<Float32Array[]> {
    return (await this.join('gather', rank, data, generation)).map((a) => a.slice());
  }

  abort(error: Error): void {
    const pending = [...this.rounds.values()];
    this.rounds.clear();
    this.calls.fill(0);
    const aborted = new CollectiveAborted(error.message);
    this.aborted = { generation: this.generation, error: aborted };
    this.generation++;
    for (const round of pending) for (const w of round.waiters) w.reject(aborted);
  }

  /** Calls made by each rank so far (for tests and diagnostics). */
  get callCounts(): readonly number[] {
    return [...this.calls];
  }

  private join(kind: 'sum' | 'gather', rank: number, data: Float32Array, generation = this.generation): Promise<Float32Array[]> {
    checkRank('InProcessCollective', rank, this.size);
    if (generation !== this.generation) {
      const why = this.aborted && generation <= this.aborted.generation ? this.aborted.error : new CollectiveAborted(`a call of generation ${generation} on a collective at generation ${this.generation}`);
      return Promise.reject(why);
    }
    if (!(data instanceof Float32Array)) throw new Error(`InProcessCollective: rank ${rank} must contribute a Float32Array, got ${String(data)}`);
    const index = this.calls[rank]++;
    let round = this.rounds.get(index);
    if (!round) {
      round = { kind, contributions: new Array(this.size), waiters: [], arrived: 0 };
      this.rounds.set(index, round);
    }
    const r = round;
    if (r.kind !== kind) r.kind = 'mixed';
    // Copied: the caller may reuse its array before the round completes.
    r.contributions[rank] = data.slice();
    r.arrived++;
    const result = new Promise<Float32Array[]>((resolve, reject) => r.waiters.push({ resolve, reject }));
    if (r.arrived === this.size) {
      this.rounds.delete(index);
      const problem = mismatch(r, index);
      for (const w of r.waiters) {
        if (problem) w.reject(new Error(problem));
        else w.resolve(r.contributions as Float32Array[]);
      }
    }
    return result;
  }
}

/** Why a complete round cannot be combined (reported to every rank), or null. */
function mismatch(r: Round, index: number): string | null {
  if (r.kind === 'mixed') return `collective round ${index}: the ranks called different collectives (all-reduce and all-gather); every rank must make the same calls in the same order`;
  const lengths = r.contributions.map((a) => a!.length);
  if (r.kind === 'sum' && lengths.some((n) => n !== lengths[0])) {
    return `collective round ${index}: all-reduce needs arrays of one length on every rank, got lengths [${lengths.join(', ')}] for ranks 0..${lengths.length - 1}`;
  }
  return null;
}
