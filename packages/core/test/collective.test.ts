import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { CollectiveHub, InProcessCollective, PortCollective, type MessageChannelEnd } from '../src/index.ts';

describe('InProcessCollective', () => {
  it('matches the n-th call of every rank and gives each the float64 sum in rank order, or every array', async () => {
    const c = new InProcessCollective(3);
    const sums = [0, 1, 2].map((r) => c.allReduceSum(r, Float32Array.from([r + 1, 0.1 * r])));
    for (const s of await Promise.all(sums)) expect([...s]).toEqual([6, Math.fround(Math.fround(0.1) + Math.fround(0.2))]);
    const gathered = await Promise.all([2, 0, 1].map((r) => c.allGather(r, Float32Array.from([r]))));
    for (const g of gathered) expect(g.map((a) => a[0])).toEqual([0, 1, 2]);
    expect(c.callCounts).toEqual([2, 2, 2]);
  });

  it('a round whose calls disagree fails on every rank', async () => {
    const c = new InProcessCollective(2);
    const calls = [c.allReduceSum(0, new Float32Array(2)), c.allReduceSum(1, new Float32Array(3))];
    await Promise.all(calls.map((p) => expect(p).rejects.toThrow(/all-reduce needs arrays of one length on every rank, got lengths \[2, 3\]/)));
    const mixed = [c.allReduceSum(0, new Float32Array(1)), c.allGather(1, new Float32Array(1))];
    await Promise.all(mixed.map((p) => expect(p).rejects.toThrow(/the ranks called different collectives/)));
  });

  it('an abort fails the waiting calls and the calls recorded before it, then counts afresh', async () => {
    const c = new InProcessCollective(2);
    const waiting = c.allReduceSum(0, Float32Array.from([1]));
    const recorded = c.generation;
    c.abort(new Error('replica 1 failed'));
    await expect(waiting).rejects.toThrow('replica 1 failed');
    // Made after the abort, but recorded before it: fails at once instead of waiting forever.
    await expect(c.allGather(0, Float32Array.from([1]), recorded)).rejects.toThrow('replica 1 failed');
    const sums = await Promise.all([0, 1].map((r) => c.allReduceSum(r, Float32Array.from([r + 1]), c.generation)));
    for (const s of sums) expect([...s]).toEqual([3]);
  });

  it('checks its ranks', async () => {
    expect(() => new InProcessCollective(0)).toThrow(/size must be a positive integer, got 0/);
    await expect(new InProcessCollective(2).allGather(2, new Float32Array(1))).rejects.toThrow(/rank must be an integer in \[0, 2\), got 2/);
  });
});

describe('PortCollective and CollectiveHub over message ports', () => {
  const ports: MessagePort[] = [];
  afterAll(() => ports.forEach((p) => p.close()));

  /** Rank r's collective and the hub joined by a MessageChannel each (as Web Workers would be). */
  function connect(size: number): PortCollective[] {
    const hubEnds: MessageChannelEnd[] = [];
    const replicas: PortCollective[] = [];
    for (let r = 0; r < size; r++) {
      const { port1, port2 } = new MessageChannel();
      ports.push(port1, port2);
      hubEnds.push(port1 as unknown as MessageChannelEnd);
      replicas.push(new PortCollective(port2 as unknown as MessageChannelEnd, r, size));
      port1.start();
      port2.start();
    }
    new CollectiveHub(hubEnds);
    return replicas;
  }

  it('sums and gathers across ranks in other threads of control, as the in-process collective does', async () => {
    const replicas = connect(3);
    const sums = await Promise.all(replicas.map((c, r) => c.allReduceSum(r, Float32Array.from([r, 1]))));
    for (const s of sums) expect([...s]).toEqual([3, 3]);
    const gathered = await Promise.all(replicas.map((c, r) => c.allGather(r, Float32Array.from([10 * r]))));
    for (const g of gathered) expect(g.map((a) => a[0])).toEqual([0, 10, 20]);
  });

  it('passes a mismatch on to every rank, and refuses a call made for another rank', async () => {
    const replicas = connect(2);
    const calls = replicas.map((c, r) => c.allReduceSum(r, new Float32Array(r + 1)));
    await Promise.all(calls.map((p) => expect(p).rejects.toThrow(/arrays of one length on every rank/)));
    await expect(replicas[0].allGather(1, new Float32Array(1))).rejects.toThrow(/this replica is rank 0, called as rank 1/);
  });
});
