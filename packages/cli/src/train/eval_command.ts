// Node: `welford eval --checkpoint FILE`. Rebuilds the model the checkpoint was trained as (its
// configuration is in the file's metadata, or in the run.json beside it; flags override or
// supply it), loads the weights and evaluates on the test split exactly as training did.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadSafetensors, parseSafetensors } from '@welford/layers';
import { RunError, UsageError } from '../errors.ts';
import { parseArgs } from './args.ts';
import { startBackend } from './backend_node.ts';
import { describeConfig, resolveConfig, type TrainConfig } from './config.ts';
import { firstSamples, type TrainingData } from './data_pipeline.ts';
import { loadDatasets } from './datasets_node.ts';
import { CONFIG_METADATA_KEY, storedConfig } from './metadata.ts';
import { userPath } from './outputs.ts';
import { testSummary, type TextOut } from './progress.ts';
import { buildModel } from './model.ts';
import { evaluateTest } from './run_training.ts';

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new RunError(`cannot read ${what} ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The configuration stored with a checkpoint (metadata first, then run.json), or null. */
function configOf(path: string, metadata: Record<string, string>, given: Partial<TrainConfig>): TrainConfig | null {
  let stored: unknown = null;
  if (metadata[CONFIG_METADATA_KEY] !== undefined) {
    try {
      stored = JSON.parse(metadata[CONFIG_METADATA_KEY]);
    } catch (e) {
      throw new RunError(`${path}: the ${CONFIG_METADATA_KEY} metadata is not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
  } else {
    const runJson = join(dirname(path), 'run.json');
    if (existsSync(runJson)) stored = (readJson(runJson, 'the run description') as { config?: unknown }).config ?? null;
  }
  try {
    return storedConfig(stored, given);
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`${e.message} (the checkpoint's stored configuration with the flags given)`);
    throw new RunError(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Runs `welford eval ARGS`; returns the exit status. */
export async function evalCommand(args: readonly string[], out: TextOut = process.stdout): Promise<number> {
  const { given, run } = parseArgs('eval', args);
  if (!run.checkpoint) throw new UsageError('missing --checkpoint FILE (a checkpoint.safetensors that welford train wrote)');
  const path = userPath(run.checkpoint);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new RunError(`cannot read the checkpoint ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : e instanceof Error ? e.message : String(e)}`);
  }
  let metadata: Record<string, string>;
  try {
    metadata = parseSafetensors(bytes).metadata;
  } catch (e) {
    throw new RunError(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const stored = configOf(path, metadata, given);
  if (!stored && (given.model === undefined || given.norm === undefined || given.dataset === undefined)) {
    throw new UsageError(`${path} does not say how it was trained (no ${CONFIG_METADATA_KEY} metadata, no run.json beside it): give --model, --norm and --dataset`);
  }
  const config = stored ?? resolveConfig(given);
  const data = loadDatasets(config, ['test']) as Pick<TrainingData, 'test'>;
  const test = firstSamples(data.test, config.testLimit);
  const backend = await startBackend(run.cpu);
  const model = buildModel(config);
  try {
    try {
      await loadSafetensors(model, bytes);
    } catch (e) {
      throw new RunError(`${path} does not fit a ${describeConfig(config).split(' on ')[0]}: ${e instanceof Error ? e.message : String(e)}`);
    }
    out.write(`welford eval: ${path}\n${describeConfig(config)}\nevaluating on ${test.length} ${config.dataset} test samples on ${backend.description}\n`);
    const result = await evaluateTest(model, config, test);
    out.write(`test ${testSummary(result)} on ${result.samples} samples\n`);
    return 0;
  } finally {
    model.dispose();
  }
}
