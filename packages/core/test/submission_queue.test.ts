import { describe, expect, it } from 'vitest';
import { SubmissionQueue } from '../src/backend/webgpu/submission_queue.ts';

/** A queue that logs what reaches it, in order. */
function fakeQueue(): { queue: GPUQueue; log: string[] } {
  const log: string[] = [];
  const queue = {
    submit: (buffers: { label: string }[]) => log.push(`submit ${buffers.map((b) => b.label).join(',')}`),
    writeBuffer: (buffer: { label: string }, _offset: number, data: ArrayBuffer, byteOffset: number, byteLength: number) =>
      log.push(`write ${buffer.label} ${[...new Float32Array(data, byteOffset, byteLength / 4)].join(',')}`),
  };
  return { queue: queue as unknown as GPUQueue, log };
}

const commands = (label: string): GPUCommandBuffer => ({ label }) as unknown as GPUCommandBuffer;
const buffer = (label: string): GPUBuffer => ({ label }) as unknown as GPUBuffer;

describe('SubmissionQueue', () => {
  it('passes everything straight to the queue while nothing is held', async () => {
    const { queue, log } = fakeQueue();
    let submits = 0;
    const q = new SubmissionQueue(queue, () => submits++);
    q.submit(commands('a'));
    q.write(buffer('B'), new Float32Array([1, 2]));
    await q.submitted();
    expect(log).toEqual(['submit a', 'write B 1,2']);
    expect(submits).toBe(1);
  });

  it('holds work recorded after a hold until it is released, then keeps the recording order', async () => {
    const { queue, log } = fakeQueue();
    const q = new SubmissionQueue(queue, () => undefined);
    q.submit(commands('before'));
    const first = q.hold();
    const data = new Float32Array([5]);
    q.submit(commands('after-first'));
    q.write(buffer('IN'), data);
    data[0] = 6; // held writes keep the values of the call
    const second = q.hold();
    q.submit(commands('after-second'));
    let done = false;
    const waiting = q.submitted().then(() => (done = true));
    expect(log).toEqual(['submit before']);
    // Released out of order: the second waits for the first.
    q.release(second, [{ buffer: buffer('S2'), data: new Float32Array([2]) }]);
    expect(log).toEqual(['submit before']);
    q.release(first, [{ buffer: buffer('S1'), data: new Float32Array([1]) }]);
    await waiting;
    expect(done).toBe(true);
    expect(log).toEqual(['submit before', 'write S1 1', 'submit after-first', 'write IN 5', 'write S2 2', 'submit after-second']);
    expect(q.holding).toBe(false);
  });

  it('an abort drops only up to the next fence: what was recorded after it still runs', async () => {
    const { queue, log } = fakeQueue();
    const q = new SubmissionQueue(queue, () => undefined);
    const hold = q.hold();
    q.submit(commands('failed-step'));
    const failedRead = q.submitted();
    q.fence();
    q.write(buffer('NEXT'), new Float32Array([7]));
    q.submit(commands('next-step'));
    const nextRead = q.submitted();
    q.abort(hold, new Error('replica failed'));
    await expect(failedRead).rejects.toThrow('replica failed');
    await nextRead;
    expect(log).toEqual(['write NEXT 7', 'submit next-step']);
  });

  it('an aborted hold drops what it held, rejects its waiters, and lets the queue go on', async () => {
    const { queue, log } = fakeQueue();
    const q = new SubmissionQueue(queue, () => undefined);
    const hold = q.hold();
    q.submit(commands('dropped'));
    const waiter = q.submitted();
    expect(q.abort(hold, new Error('replica 1 failed'))).toBe(true);
    await expect(waiter).rejects.toThrow('replica 1 failed');
    q.release(hold, []);
    q.submit(commands('next'));
    expect(log).toEqual(['submit next']);
    // Nobody waiting: the caller hears that nobody was told.
    const lonely = q.hold();
    expect(q.abort(lonely, new Error('x'))).toBe(false);
  });
});
