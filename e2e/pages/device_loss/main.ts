// Destroys the GPU device in the middle of `fit`, as a driver reset would, and publishes what a
// program then sees: fit's error, `backend.lost`, later calls on the old backend, its memory and
// any unhandled rejection; then trains on from a checkpoint on a new device.
import { DeviceLostError, fromArray, init, manualSeed, memory, Random, relu, SGD, WebGpuBackend } from '@welford/core';
import { fit, loadSafetensors, saveSafetensors, smallCnn, type SmallCnn, type TrainingBatch } from '@welford/layers';
import { BATCHES_PER_EPOCH, LOSS_AT_STEP, STEPS_AFTER, type DeviceLossReport, type SeenError } from './report.ts';

const IMAGE = 8;
const CLASSES = 4;
const BATCH = 8;

// Listening from the first line: a rejection nobody handles may come at any point after the loss.
const unhandledRejections: string[] = [];
window.addEventListener('unhandledrejection', (e) => unhandledRejections.push(seen(e.reason).message));

function seen(e: unknown): SeenError {
  return e instanceof Error ? { name: e.name, message: e.message, deviceLost: e instanceof DeviceLostError } : { name: typeof e, message: String(e), deviceLost: false };
}

const sleep = (ms: number): Promise<null> => new Promise((resolve) => setTimeout(() => resolve(null), ms));

/** What `work` threw or rejected with, or undefined when it succeeded. */
async function thrownBy(work: () => unknown): Promise<unknown> {
  try {
    await work();
    return undefined;
  } catch (e) {
    return e ?? new Error(`threw ${String(e)}`);
  }
}

const seenOrNull = (e: unknown): SeenError | null => (e === undefined ? null : seen(e));

async function webGpu(): Promise<WebGpuBackend> {
  const backend = await init();
  if (!(backend instanceof WebGpuBackend)) throw new Error(`expected the WebGPU backend, got ${backend.description}`);
  return backend;
}

function cnn(seed: number): SmallCnn {
  manualSeed(seed);
  return smallCnn({ depth: 2, width: 4, classes: CLASSES, norm: 'batch' });
}

/** `count` batches of random single-channel 8×8 images and labels, made as fit asks for them (it disposes each). */
function* randomBatches(count: number, seed: number): Generator<TrainingBatch> {
  const rng = new Random(seed);
  for (let b = 0; b < count; b++) {
    const x = Float32Array.from({ length: BATCH * IMAGE * IMAGE }, () => rng.normal());
    const y = Float32Array.from({ length: BATCH }, () => Math.floor(rng.uniform() * CLASSES));
    yield { x: fromArray(x, [BATCH, 1, IMAGE, IMAGE]), y: fromArray(y, [BATCH]) };
  }
}

/** Lets reads left in flight land (they free their tensors when they do), so leaks and unhandled rejections show. */
async function settle(backend: WebGpuBackend): Promise<void> {
  await backend.sync().catch(() => undefined);
  await sleep(50);
}

/**
 * The old backend's live buffers once the reads fit left in flight have settled: a read the
 * loss aborted frees its loss tensor only when its mapping fails, which can take a while after
 * the loss. A buffer still live after 10 s is a leak.
 */
async function liveBuffersSettled(backend: WebGpuBackend): Promise<number> {
  await settle(backend);
  for (const end = performance.now() + 10_000; memory(backend).liveBuffers > 0 && performance.now() < end; ) await sleep(20);
  return memory(backend).liveBuffers;
}

async function run(): Promise<DeviceLossReport> {
  const backend = await webGpu();
  const model = cnn(1);
  const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const probe = fromArray([1, -2, 3], [3]);
  // Written by onEpoch, inside fit.
  const saved: { bytes: Uint8Array | null } = { bytes: null };
  let stepReached = 0;
  // Epoch 0 ends before the loss and is checkpointed; epoch 1 is long enough that a later call, not its end, meets the loss.
  const fitError = await thrownBy(() =>
    fit(model, {
      train: (epoch) => randomBatches(epoch === 0 ? BATCHES_PER_EPOCH : 40, epoch + 1),
      epochs: 2,
      optimizer,
      readEvery: 2,
      onStep: ({ step }) => {
        stepReached = step;
        if (step === LOSS_AT_STEP) backend.device.destroy();
      },
      onEpoch: async ({ epoch }) => {
        if (epoch === 0) saved.bytes = await saveSafetensors(model);
      },
    }),
  );
  const lost = await Promise.race([backend.lost, sleep(10_000)]);
  const laterOpError = await thrownBy(() => relu(probe));
  const laterReadError = await thrownBy(() => probe.toArray());
  model.dispose();
  optimizer.dispose();
  probe.dispose();
  const liveBuffersAfterDispose = await liveBuffersSettled(backend);
  const checkpoint = saved.bytes;
  if (!checkpoint) throw new Error('no checkpoint was taken before the loss');

  // A new device: the model rebuilt (other initial weights), the checkpoint loaded, training goes on.
  const fresh = await webGpu();
  const again = cnn(2);
  await loadSafetensors(again, checkpoint);
  const reloaded = await saveSafetensors(again);
  const sgd = new SGD(again.parameters(), { lr: 0.1, momentum: 0.9 });
  const history = await fit(again, { train: () => randomBatches(STEPS_AFTER, 3), epochs: 1, optimizer: sgd, readEvery: 1 });
  again.dispose();
  sgd.dispose();
  await settle(fresh);

  return {
    backend: backend.description,
    fitError: seenOrNull(fitError),
    stepReached,
    lostResolved: lost !== null,
    lostReason: lost?.reason ?? null,
    lostIsFitError: lost !== null && lost === fitError,
    lostErrorMessage: backend.lostError?.message ?? null,
    laterOpError: seenOrNull(laterOpError),
    laterReadError: seenOrNull(laterReadError),
    liveBuffersAfterDispose,
    newBackend: fresh.description,
    reloadedExactly: reloaded.length === checkpoint.length && reloaded.every((b, i) => b === checkpoint[i]),
    lossesAfter: history.losses.map((r) => r.loss),
    stepsAfter: history.steps,
    unhandledRejections,
  };
}

function show(report: DeviceLossReport): void {
  document.getElementById('results')!.textContent = JSON.stringify(report, null, 2);
  document.body.dataset.status = report.error ? 'error' : 'done';
}

run()
  .catch((e: unknown): DeviceLossReport => {
    console.error(e);
    const none = { name: '', message: '', deviceLost: false };
    return {
      backend: '',
      fitError: none,
      stepReached: 0,
      lostResolved: false,
      lostReason: null,
      lostIsFitError: false,
      lostErrorMessage: null,
      laterOpError: null,
      laterReadError: null,
      liveBuffersAfterDispose: -1,
      newBackend: '',
      reloadedExactly: false,
      lossesAfter: [],
      stepsAfter: 0,
      unhandledRejections,
      error: seen(e).message,
    };
  })
  .then((report) => {
    show(report);
    window.welfordDeviceLoss = report;
  });
