// Node: `welford train`. Checks the command line and the output folder, loads the data, trains
// in Node (or, with --browser, in headless Chromium or Firefox), prints the progress, and writes the run's
// folder: metrics.jsonl and stats.jsonl as it goes, then checkpoint.safetensors and run.json.
// A folder holding an earlier run is refused unless --overwrite. The first SIGINT or SIGTERM,
// or a file that cannot be written, stops training at the next step boundary through one abort
// signal; run_endings.ts records how the run ended.
import { UsageError } from '../errors.ts';
import { parseArgs } from './args.ts';
import { startBackend } from './backend_node.ts';
import { CONFIG_VERSION, describeConfig, resolveConfig } from './config.ts';
import type { TrainingData } from './data_pipeline.ts';
import { loadDatasets } from './datasets_node.ts';
import { onInterrupts, SIGNAL_EXIT } from './interrupts.ts';
import { checkOutDir, defaultOutDir, RunFiles, userPath } from './outputs.ts';
import { ProgressPrinter, type TextOut } from './progress.ts';
import { exitAtOnce, recordFailed, recordFinished, recordInterrupted, recordWriteFailure, type RunContext } from './run_endings.ts';
import { runTraining, type StoppedTraining, type TrainingHooks, type TrainingResult } from './run_training.ts';
import { RunStop, TrainingStopped } from './stop.ts';

/** Runs `welford train ARGS`; returns the exit status (errors are thrown for main to report). */
export async function trainCommand(args: readonly string[], out: TextOut = process.stdout, err: TextOut = process.stderr): Promise<number> {
  const { given, run } = parseArgs('train', args);
  const config = resolveConfig(given);
  if (run.browser && run.cpu) throw new UsageError('--cpu runs in Node; --browser trains on the browser\'s WebGPU (give one or the other)');
  if (run.cpu && config.replicas > 1) throw new UsageError(`--replicas ${config.replicas} trains on a WebGPU device per replica; the CPU reference (--cpu) has no devices to spread over`);
  if (run.gpu && !run.browser) throw new UsageError('--gpu applies to --browser (in Node, WebGPU takes a hardware adapter by itself when there is one)');
  const dir = run.out ? userPath(run.out) : defaultOutDir(config);
  // Before any work: an earlier run is never replaced unasked.
  checkOutDir(dir, run.overwrite);

  const printer = new ProgressPrinter(out);
  const stop = new RunStop();
  let context: RunContext | null = null;
  let step = 0;
  const removeHandlers = onInterrupts(
    (signal) => {
      stop.request({ kind: 'signal', signal });
      printer.end();
      err.write(`welford train: ${signal}: stopping at the next step and saving the weights (${signal} again exits at once)\n`);
    },
    (signal) => exitAtOnce(err, context, signal, step),
  );
  try {
    // Data and browser first: what is missing stops the run before any folder is made. The
    // browser module is loaded only when asked for: Vite and Puppeteer are large.
    const browser = run.browser ? await import('../browser/run_in_browser.ts') : null;
    if (browser && run.browser) browser.findBrowser(run.browser);
    const data = loadDatasets(config) as TrainingData;
    printer.line(`welford train: ${describeConfig(config)}`);
    const early = stop.reason;
    if (early?.kind === 'signal') {
      err.write(`welford train: interrupted by ${early.signal} before training started; nothing written\n`);
      return SIGNAL_EXIT[early.signal];
    }
    const files = new RunFiles(dir, { overwrite: run.overwrite, onWriteFailure: (failure) => stop.request({ kind: 'write', ...failure }) });
    const startedAt = new Date();
    const info = { command: ['welford', 'train', ...args].join(' '), runtime: run.browser ? 'browser' : 'node', startedAt: startedAt.toISOString(), config: { version: CONFIG_VERSION, ...config } };
    const ctx: RunContext = { files, info, startedAt, printer, err, recorded: false };
    context = ctx;
    const hooks: TrainingHooks = {
      onStep: (p) => {
        step = p.step;
        printer.step(p);
      },
      onMetrics: (r) => {
        files.appendMetrics(r);
        printer.metrics(r);
      },
      statsSinks: [files.statsSink()],
      onLog: (line) => printer.line(line),
    };
    let outcome: TrainingResult | StoppedTraining | null = null;
    try {
      if (browser) {
        outcome = await browser.trainInBrowser(config, data, hooks, { browser: run.browser ?? 'chromium', gpu: run.gpu, log: (line) => printer.line(line), signal: stop.signal });
      } else {
        const backend = await startBackend(run.cpu);
        printer.line(`training on ${backend.description}`);
        outcome = await runTraining(config, data, hooks, { signal: stop.signal });
      }
    } catch (e) {
      // Stopped before the page trained: nothing to save but the record.
      if (!(e instanceof TrainingStopped)) recordFailed(ctx, e);
    }
    const steps = outcome?.steps ?? step;
    const reason = stop.reason;
    // A file that could not be written outranks an interrupt: the run's record is incomplete.
    if (files.writeFailure) recordWriteFailure(ctx, files.writeFailure, outcome, steps);
    // An interrupt after the last evaluation lets the run finish: everything is there.
    if (outcome !== null && !outcome.stopped) {
      try {
        return recordFinished(ctx, outcome);
      } catch (e) {
        recordFailed(ctx, e);
      }
    }
    if (reason?.kind === 'signal') return recordInterrupted(ctx, reason.signal, outcome, steps);
    recordFailed(ctx, new Error('training stopped without a reason'));
  } finally {
    removeHandlers();
  }
}
