import { checkRank, type Collective } from './collective.ts';
import { InProcessCollective } from './in_process_collective.ts';

/**
 * What a collective needs of a message channel: a Web Worker, a MessagePort (browser or Node's
 * worker_threads) or the worker's own global scope.
 */
export interface MessageChannelEnd {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

/** A collective call from a replica to the hub, and the hub's answer. */
interface CallMessage {
  readonly welfordCollective: 'call';
  readonly id: number;
  readonly rank: number;
  readonly kind: 'sum' | 'gather';
  readonly data: Float32Array;
}

interface ResultMessage {
  readonly welfordCollective: 'result';
  readonly id: number;
  readonly arrays?: Float32Array[];
  readonly error?: string;
}

function isMessage<T extends { welfordCollective: string }>(data: unknown, kind: T['welfordCollective']): data is T {
  return typeof data === 'object' && data !== null && (data as { welfordCollective?: unknown }).welfordCollective === kind;
}

/**
 * The replica's side of a collective whose ranks live in different threads (Web Workers, Node
 * worker threads): each call goes to a `CollectiveHub` over `channel`, which answers when every
 * rank has made its matching call. A real deployment puts a collective library in its place (see
 * docs/distributed.md); the interface is the same.
 */
export class PortCollective implements Collective {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (arrays: Float32Array[]) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly channel: MessageChannelEnd,
    readonly rank: number,
    readonly size: number,
  ) {
    checkRank('PortCollective', rank, size);
    channel.addEventListener('message', (event) => {
      if (!isMessage<ResultMessage>(event.data, 'result')) return;
      const w = this.waiting.get(event.data.id);
      if (!w) return;
      this.waiting.delete(event.data.id);
      if (event.data.error !== undefined) w.reject(new Error(event.data.error));
      else w.resolve(event.data.arrays!);
    });
  }

  async allReduceSum(rank: number, data: Float32Array): Promise<Float32Array> {
    return (await this.call('sum', rank, data))[0];
  }

  async allGather(rank: number, data: Float32Array): Promise<Float32Array[]> {
    return this.call('gather', rank, data);
  }

  private call(kind: CallMessage['kind'], rank: number, data: Float32Array): Promise<Float32Array[]> {
    if (rank !== this.rank) throw new Error(`PortCollective: this replica is rank ${this.rank}, called as rank ${rank}`);
    const id = this.nextId++;
    const message: CallMessage = { welfordCollective: 'call', id, rank, kind, data: data.slice() };
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.channel.postMessage(message);
    });
  }
}

/**
 * The meeting point of `PortCollective`s: listens on one channel per rank (channels[r] reaches
 * rank r), matches their calls in order, and answers each with the sum or the gathered arrays
 * (computed as InProcessCollective does, so results are the same bits).
 */
export class CollectiveHub {
  private readonly inner: InProcessCollective;

  constructor(channels: readonly MessageChannelEnd[]) {
    this.inner = new InProcessCollective(channels.length);
    channels.forEach((channel, rank) => {
      channel.addEventListener('message', (event) => {
        if (!isMessage<CallMessage>(event.data, 'call')) return;
        const { id, kind, data } = event.data;
        if (event.data.rank !== rank) {
          channel.postMessage({ welfordCollective: 'result', id, error: `CollectiveHub: a call from rank ${event.data.rank} arrived on rank ${rank}'s channel` } satisfies ResultMessage);
          return;
        }
        const answer = kind === 'sum' ? this.inner.allReduceSum(rank, data).then((sum) => [sum]) : this.inner.allGather(rank, data);
        answer.then(
          (arrays) => channel.postMessage({ welfordCollective: 'result', id, arrays } satisfies ResultMessage),
          (e: unknown) => channel.postMessage({ welfordCollective: 'result', id, error: e instanceof Error ? e.message : String(e) } satisfies ResultMessage),
        );
      });
    });
  }
}
