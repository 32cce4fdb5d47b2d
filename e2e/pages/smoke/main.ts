// Runs a few ops of @welford/core on the browser's WebGPU adapter and publishes the numbers.
import { WebGpuBackend, add, exp, fromArray, init, memory, mul, onesLike, tidy } from '@welford/core';
import { ROW, W, X, type SmokeReport } from './report.ts';

async function run(): Promise<SmokeReport> {
  const backend = await init();
  if (!(backend instanceof WebGpuBackend)) throw new Error(`expected the WebGPU backend, got ${backend.description}`);
  const values: Record<string, number[]> = {};

  // Forward: known values in, numbers out.
  const x = fromArray(X, [2, 2], { requiresGrad: true });
  const w = fromArray(W, [2, 2], { requiresGrad: true });
  const row = fromArray(ROW, [2]);
  const [sum, product, exps, broadcast] = tidy(() => [add(x, w), mul(x, w), exp(x), add(x, row)]);
  values.add = [...(await sum.toArray())];
  values.mul = [...(await product.toArray())];
  values.exp = [...(await exps.toArray())];
  values.addRow = [...(await broadcast.toArray())];

  // Backward through mul and exp: d/dx exp(x·w) = w·exp(x·w), d/dw = x·exp(x·w).
  const y = exp(mul(x, w));
  y.backward(onesLike(y));
  values.y = [...(await y.toArray())];
  values.gradX = [...(await x.grad!.toArray())];
  values.gradW = [...(await w.grad!.toArray())];

  // A tidy block frees every intermediate it made.
  await backend.sync();
  const liveBuffersBefore = memory().liveBuffers;
  const kept = tidy(() => add(exp(mul(x, 2)), mul(w, w)));
  values.tidy = [...(await kept.toArray())];
  kept.dispose();
  const liveBuffersAfter = memory().liveBuffers;

  const { acquired } = backend;
  const { vendor, architecture, device, description } = acquired.adapter.info;
  const adapterInfo = { vendor, architecture, device, description };
  return { runtime: acquired.runtime, backend: backend.description, adapterName: acquired.adapterName, adapterInfo, software: acquired.software, values, liveBuffersBefore, liveBuffersAfter };
}

function show(report: SmokeReport): void {
  const out = document.getElementById('results')!;
  const lines = report.error
    ? [`error: ${report.error}`]
    : [`adapter: ${report.adapterName}`, `backend: ${report.backend}`, ...Object.entries(report.values).map(([k, v]) => `${k.padEnd(8)} ${v.map((n) => n.toPrecision(6)).join('  ')}`)];
  out.textContent = lines.join('\n');
  document.body.dataset.status = report.error ? 'error' : 'done';
}

run()
  .catch((e: unknown): SmokeReport => {
    console.error(e);
    const error = e instanceof Error ? e.message : String(e);
    const adapterInfo = { vendor: '', architecture: '', device: '', description: '' };
    return { runtime: '', backend: '', adapterName: '', adapterInfo, software: false, values: {}, liveBuffersBefore: 0, liveBuffersAfter: 0, error };
  })
  .then((report) => {
    show(report);
    window.welfordSmoke = report;
  });
