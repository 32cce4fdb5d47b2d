// runTraining and the caller's abort signal, in-process on the CPU reference: a stop before the
// first step gives no checkpoint; a stop mid-run ends at the next step boundary with the weights
// of that step and the epochs evaluated in full so far, and skips the evaluation of the partial one.
import { init } from '@welford/core';
import { parseSafetensors } from '@welford/layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/train/config.ts';
import type { TrainingData } from '../../src/train/data_pipeline.ts';
import { loadDatasets } from '../../src/train/datasets_node.ts';
import { runTraining } from '../../src/train/run_training.ts';

// 64 samples in batches of 16: four steps an epoch.
const config = resolveConfig({ model: 'small-cnn', depth: 2, width: 4, norm: 'batch', dataset: 'mnist', trainLimit: 64, testLimit: 32, batch: 16, epochs: 10, statsEvery: 0, logEvery: 1 });
let data: TrainingData;
beforeAll(async () => {
  await init({ backend: 'cpu' });
  data = loadDatasets(config) as TrainingData;
});

describe('runTraining with a signal', () => {
  it('already aborted: stops before the first step, without a checkpoint', async () => {
    const stop = new AbortController();
    stop.abort();
    let steps = 0;
    const result = await runTraining(config, data, { onStep: () => steps++ }, { signal: stop.signal });
    expect(result).toMatchObject({ stopped: true, steps: 0, epochs: [], checkpoint: null });
    expect(steps).toBe(0);
  });

  it('aborted at step 6: the weights of step 6, epoch 1 evaluated, the partial epoch 2 not', async () => {
    const stop = new AbortController();
    const logged: string[] = [];
    const result = await runTraining(config, data, { onStep: (p) => { if (p.step === 6) stop.abort(); }, onLog: (line) => logged.push(line) }, { signal: stop.signal });
    expect(result.stopped).toBe(true);
    expect(result.steps).toBe(6);
    expect(result.epochs.map((e) => e.steps)).toEqual([4]);
    expect(logged.filter((l) => l.startsWith('evaluating'))).toHaveLength(1);
    const checkpoint = parseSafetensors(result.checkpoint!);
    expect(checkpoint.tensors.get('bn1.num_batches_tracked')!.data[0]).toBe(6);
    expect(JSON.parse(checkpoint.metadata['welford.config'])).toMatchObject({ model: 'small-cnn', width: 4, epochs: 10 });
  }, 120_000);
});
