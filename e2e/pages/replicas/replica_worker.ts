// One replica in a Web Worker, on a WebGPU device of its own: waits for its rank, trains with
// its collective calls going to the page's hub, and posts what it ended with.
import { PortCollective, type MessageChannelEnd } from '@welford/core';
import { train } from './training.ts';

const scope = self as unknown as MessageChannelEnd;

scope.addEventListener('message', (event) => {
  const message = event.data as { start?: { rank: number; size: number } };
  if (!message.start) return;
  const { rank, size } = message.start;
  train(new PortCollective(scope, rank, size), rank).then(
    (result) => scope.postMessage({ result }),
    (e: unknown) => scope.postMessage({ error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) }),
  );
});
