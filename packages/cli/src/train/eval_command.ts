// Node: `welford eval --checkpoint FILE`. Rebuilds the model the checkpoint was trained as (its
// configuration is in the file's metadata, or in the run.json beside it; flags override or
// supply it), loads the weights and evaluates on the test split exactly as training did.
import { UsageError } from '../errors.ts';
import { parseArgs } from './args.ts';
import { startBackend } from './backend_node.ts';
import { checkpointConfig, loadCheckpointInto, readCheckpointFile } from './checkpoint_file.ts';
import { describeConfig, resolveConfig } from './config.ts';
import { firstSamples, type TrainingData } from './data_pipeline.ts';
import { loadDatasets } from './datasets_node.ts';
import { CONFIG_METADATA_KEY } from './metadata.ts';
import { userPath } from './outputs.ts';
import { testSummary, type TextOut } from './progress.ts';
import { buildModel } from './model.ts';
import { evaluateTest } from './run_training.ts';

/** Runs `welford eval ARGS`; returns the exit status. */
export async function evalCommand(args: readonly string[], out: TextOut = process.stdout): Promise<number> {
  const { given, run } = parseArgs('eval', args);
  if (!run.checkpoint) throw new UsageError('missing --checkpoint FILE (a checkpoint.safetensors that welford train wrote)');
  const path = userPath(run.checkpoint);
  const { bytes, metadata } = readCheckpointFile(path);
  const stored = checkpointConfig(path, metadata, given);
  if (!stored && (given.model === undefined || given.norm === undefined || given.dataset === undefined)) {
    throw new UsageError(`${path} does not say how it was trained (no ${CONFIG_METADATA_KEY} metadata, no run.json beside it): give --model, --norm and --dataset`);
  }
  const config = stored ?? resolveConfig(given);
  const data = loadDatasets(config, ['test']) as Pick<TrainingData, 'test'>;
  const test = firstSamples(data.test, config.testLimit);
  const backend = await startBackend(run.cpu);
  const model = buildModel(config);
  try {
    await loadCheckpointInto(model, bytes, path, config);
    out.write(`welford eval: ${path}\n${describeConfig(config)}\nevaluating on ${test.length} ${config.dataset} test samples on ${backend.description}\n`);
    const result = await evaluateTest(model, config, test);
    out.write(`test ${testSummary(result)} on ${result.samples} samples\n`);
    return 0;
  } finally {
    model.dispose();
  }
}
