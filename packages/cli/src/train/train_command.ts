// Node: `welford train`. Checks the command line, loads the data, trains in Node (or, with
// --browser, in headless Chromium), prints the progress, and writes the run's folder:
// metrics.jsonl and stats.jsonl as it goes, then checkpoint.safetensors and run.json.
import { NonFiniteLossError } from '@welford/layers';
import { jsonLinesSink } from '@welford/stats/node';
import { RunError, UsageError } from '../errors.ts';
import { parseArgs } from './args.ts';
import { startBackend } from './backend_node.ts';
import { CONFIG_VERSION, describeConfig, resolveConfig } from './config.ts';
import type { TrainingData } from './data_pipeline.ts';
import { loadDatasets } from './datasets_node.ts';
import { defaultOutDir, RunFiles, userPath } from './outputs.ts';
import { ProgressPrinter, testSummary, type TextOut } from './progress.ts';
import { runTraining, type TrainingHooks, type TrainingResult } from './run_training.ts';

/** Runs `welford train ARGS`; returns the exit status (errors are thrown for main to report). */
export async function trainCommand(args: readonly string[], out: TextOut = process.stdout): Promise<number> {
  const { given, run } = parseArgs('train', args);
  const config = resolveConfig(given);
  if (run.browser && run.cpu) throw new UsageError('--cpu runs in Node; --browser trains on the browser\'s WebGPU (give one or the other)');
  if (run.cpu && config.replicas > 1) throw new UsageError(`--replicas ${config.replicas} trains on a WebGPU device per replica; the CPU reference (--cpu) has no devices to spread over`);
  if (run.gpu && !run.browser) throw new UsageError('--gpu applies to --browser (in Node, WebGPU takes a hardware adapter by itself when there is one)');
  const dir = run.out ? userPath(run.out) : defaultOutDir(config);

  // Data and browser first: what is missing stops the run before any folder is made. The
  // browser module is loaded only when asked for: Vite and Puppeteer are large.
  const browser = run.browser ? await import('../browser/run_in_browser.ts') : null;
  browser?.findChromium();
  const data = loadDatasets(config) as TrainingData;
  const printer = new ProgressPrinter(out);
  printer.line(`welford train: ${describeConfig(config)}`);
  const files = new RunFiles(dir);
  const startedAt = new Date();
  const info = { command: ['welford', 'train', ...args].join(' '), runtime: run.browser ? 'browser' : 'node', startedAt: startedAt.toISOString(), config: { version: CONFIG_VERSION, ...config } };
  const stats = jsonLinesSink(files.stats, { truncate: true });
  const hooks: TrainingHooks = {
    onStep: (p) => printer.step(p),
    onMetrics: (r) => {
      files.appendMetrics(r);
      printer.metrics(r);
    },
    statsSinks: [stats],
    onLog: (line) => printer.line(line),
  };
  try {
    let result: TrainingResult;
    if (browser) {
      result = await browser.trainInBrowser(config, data, hooks, { gpu: run.gpu, log: (line) => printer.line(line) });
    } else {
      const backend = await startBackend(run.cpu);
      printer.line(`training on ${backend.description}`);
      result = await runTraining(config, data, hooks);
    }
    await stats.flush();
    files.writeCheckpoint(result.checkpoint);
    const wallSeconds = (Date.now() - startedAt.getTime()) / 1000;
    files.writeRunJson({ ...info, status: 'finished', adapter: result.adapter, wallSeconds, trainSeconds: result.trainSeconds, steps: result.steps, samples: result.samples, epochs: result.epochs, test: result.test, replicaSpread: result.replicaSpread });
    printer.end();
    printer.line(`test ${testSummary(result.test)} on ${result.test.samples} samples after ${result.steps} steps (${wallSeconds.toFixed(1)} s)`);
    if (result.replicaSpread) {
      const spread = result.replicaSpread.map((s) => `${s.layer} ${s.runningMean.toPrecision(2)}/${s.runningVar.toPrecision(2)}`).join(', ');
      printer.line(`replicas' running statistics apart by (mean/var, largest over channels): ${spread || 'no batch norm'}`);
    }
    printer.line(`wrote ${files.dir}/{metrics.jsonl, stats.jsonl, checkpoint.safetensors, run.json}`);
    return 0;
  } catch (e) {
    printer.end();
    await stats.flush().catch(() => undefined);
    const message = e instanceof Error ? e.message : String(e);
    files.writeRunJson({ ...info, status: 'failed', error: message, wallSeconds: (Date.now() - startedAt.getTime()) / 1000 });
    if (e instanceof NonFiniteLossError || (e instanceof Error && e.name === 'NonFiniteLossError')) {
      throw new RunError(`${message.replace(/^fit: /, '')}\ntraining stopped; no checkpoint written (metrics and statistics so far are in ${files.dir})`);
    }
    throw e;
  }
}
