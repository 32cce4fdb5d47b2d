// The page `welford train --browser` drives: it waits for `window.welfordTrain(request)`,
// fetches the packed datasets Node serves beside it, trains with the same `runTraining` as Node
// on the browser's WebGPU adapter, streams progress over the console, and answers with the
// metrics and the checkpoint. `window.welfordStop()` (Node calls it on an interrupt) stops the
// run at the next step boundary. It imports the browser entries only.
import { init } from '@welford/core';
import { unpackDataset } from '@welford/data';
import { NonFiniteLossError } from '@welford/layers';
import { RunError } from '../../errors.ts';
import type { ByteDataset } from '../../train/data_pipeline.ts';
import { runTraining } from '../../train/run_training.ts';
import { encodeMessage, encodeResponse, toBase64, type PageMessage, type TrainRequest, type TrainResponse } from '../protocol.ts';

declare global {
  interface Window {
    /** Resolves with the answer, `encodeResponse`'s string. */
    welfordTrain?: (request: TrainRequest) => Promise<string>;
    welfordStop?: () => void;
  }
}

const stop = new AbortController();

const status = document.getElementById('status')!;
const post = (message: PageMessage): void => console.log(encodeMessage(message));

async function fetchDataset(url: string): Promise<ByteDataset> {
  const response = await fetch(url);
  if (!response.ok) throw new RunError(`cannot fetch ${url}: HTTP ${response.status}`);
  return unpackDataset(await response.arrayBuffer());
}

async function train(request: TrainRequest): Promise<TrainResponse> {
  try {
    status.textContent = 'loading data…';
    const [trainSet, testSet] = await Promise.all([fetchDataset(request.trainUrl), fetchDataset(request.testUrl)]);
    const backend = await init();
    post({ type: 'log', line: `training on ${backend.description} in ${navigator.userAgent.match(/(Headless)?Chrome\/[\d.]+|Firefox\/[\d.]+/)?.[0] ?? 'the browser'}` });
    status.textContent = 'training…';
    const result = await runTraining(request.config, { train: trainSet, test: testSet }, {
      onStep: (progress) => {
        post({ type: 'step', progress });
        status.textContent = `step ${progress.step}/${progress.totalSteps}`;
      },
      onMetrics: (record) => post({ type: 'metrics', record }),
      statsSinks: [{ write: (record) => post({ type: 'stats', record }) }],
      onLog: (line) => post({ type: 'log', line }),
    }, { signal: stop.signal });
    status.textContent = result.stopped ? `stopped after ${result.steps} steps` : `done: test accuracy ${result.test.accuracy.toFixed(4)}`;
    const { checkpoint, ...rest } = result;
    return { ok: true, result: rest, checkpointBase64: checkpoint ? toBase64(checkpoint) : null };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    status.textContent = `failed: ${message}`;
    const kind = e instanceof NonFiniteLossError ? 'non-finite' : e instanceof RunError ? 'run' : 'internal';
    return { ok: false, kind, message, stack: e instanceof Error ? e.stack : undefined };
  }
}

window.welfordTrain = async (request) => encodeResponse(await train(request));
window.welfordStop = () => stop.abort();
status.textContent = 'ready';
