// Data-parallel training in the browser: two replicas, each in a Web Worker with its own WebGPU
// device, joined by a CollectiveHub on this page; then the same training on one device with the
// whole batch, here. Publishes how far apart they ended.
import { CollectiveHub, type MessageChannelEnd } from '@welford/core';
import type { ReplicasReport } from './report.ts';
import { REPLICAS, train, type TrainingResult } from './training.ts';

function startReplica(worker: Worker, rank: number): Promise<TrainingResult> {
  return new Promise((resolve, reject) => {
    worker.addEventListener('message', (event: MessageEvent) => {
      const data = event.data as { result?: TrainingResult; error?: string };
      if (data.result) resolve(data.result);
      else if (data.error) reject(new Error(`replica ${rank}: ${data.error}`));
    });
    worker.addEventListener('error', (e) => reject(new Error(`replica ${rank}: ${e.message}`)));
    worker.postMessage({ start: { rank, size: REPLICAS } });
  });
}

function maxDiff(a: Record<string, number[]>, b: Record<string, number[]>): number {
  let worst = 0;
  for (const [name, values] of Object.entries(b)) {
    const other = a[name];
    if (!other || other.length !== values.length) return Infinity;
    values.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - other[i]))));
  }
  return worst;
}

async function run(): Promise<ReplicasReport> {
  const workers = Array.from({ length: REPLICAS }, () => new Worker(new URL('./replica_worker.ts', import.meta.url), { type: 'module' }));
  new CollectiveHub(workers as unknown as MessageChannelEnd[]);
  const replicas = await Promise.all(workers.map(startReplica));
  workers.forEach((w) => w.terminate());
  const reference = await train(null);
  return {
    workerBackends: replicas.map((r) => r.backend),
    referenceBackend: reference.backend,
    replicaLosses: replicas[0].losses,
    referenceLosses: reference.losses,
    maxDiffToReference: replicas.map((r) => maxDiff(r.state, reference.state)),
    maxDiffBetweenReplicas: Math.max(...replicas.map((r) => maxDiff(r.state, replicas[0].state))),
    stateNames: Object.keys(reference.state),
  };
}

run()
  .catch((e: unknown): ReplicasReport => {
    console.error(e);
    const error = e instanceof Error ? e.message : String(e);
    return { workerBackends: [], referenceBackend: '', replicaLosses: [], referenceLosses: [], maxDiffToReference: [], maxDiffBetweenReplicas: NaN, stateNames: [], error };
  })
  .then((report) => {
    document.getElementById('results')!.textContent = JSON.stringify(report, null, 2);
    document.body.dataset.status = report.error ? 'error' : 'done';
    window.welfordReplicas = report;
  });
