#!/usr/bin/env node
// welford's command line. `welford train` and `welford eval` train and evaluate models,
// `welford adapt` re-estimates a checkpoint's batch-norm statistics for shifted images, and
// `welford federated` compares FedAvg with FedBN on simulated clients (src/train/);
// `welford experiment NAME` measures a claim about normalization (src/experiment/);
// `welford conformance FILE... [--backend cpu | --browser chromium|firefox] [--json OUT [--overwrite]]`
// runs conformance case files (shared/CONFORMANCE.md), in Node or in a headless browser's WebGPU,
// and exits 0 only when every case passes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AllocationError, DeviceLostError, init, type Backend } from '@welford/core';
import { CaseFileError, readCaseFile, type CaseFile } from './conformance/case_file.ts';
import { formatRow, formatSummary, resultsJson, rowLayout } from './conformance/report.ts';
import { runCaseFile, type CaseResult } from './conformance/runner.ts';
import { walkArgs } from './args_walk.ts';
import { BROWSER_NAMES, isBrowserName, type BrowserName } from './browser/names.ts';
import { RunError, SetupError, UsageError } from './errors.ts';
import { checkNoEarlierFiles } from './existing_outputs.ts';
import { userPath } from './train/outputs.ts';
import { ADAPT_USAGE, EVAL_USAGE, FEDERATED_USAGE, TRAIN_USAGE } from './train/usage.ts';
import { EXPERIMENT_USAGE } from './experiment/usage.ts';

const CONFORMANCE_USAGE = `usage: welford conformance FILE... [--backend webgpu|cpu] [--browser chromium|firefox] [--json OUT [--overwrite]]

Runs conformance case files: one row per case (id, op, PASS/FAIL, the largest absolute error
of each compared tensor), then "N passed, M failed".
  --backend cpu   run on the CPU reference instead of WebGPU (the default)
  --browser B     run on the WebGPU of headless Chromium or Firefox (SwiftShader) instead of Node's
  --json OUT      also write the per-case results as JSON to OUT (an existing OUT is refused)
  --overwrite     replace an existing OUT
Exit status: 0 when every case passes, 1 when one fails, 2 when the files or arguments are wrong
or OUT exists (without --overwrite).`;

const USAGES: Record<string, string> = { train: TRAIN_USAGE, eval: EVAL_USAGE, adapt: ADAPT_USAGE, federated: FEDERATED_USAGE, experiment: EXPERIMENT_USAGE, conformance: CONFORMANCE_USAGE };
const COMMANDS = Object.keys(USAGES);

/** A command's usage, then the first line of the others'. */
function usageOf(command: string): string {
  const own = USAGES[command];
  if (!own) return Object.values(USAGES).join('\n\n');
  const others = COMMANDS.filter((c) => c !== command).map((c) => USAGES[c].split('\n')[0]);
  return `${own}\n\nother commands:\n${others.join('\n')}`;
}

interface ConformanceArgs {
  files: string[];
  backend: 'webgpu' | 'cpu';
  /** Run in this browser's page instead of Node. */
  browser: BrowserName | null;
  json: string | null;
  overwrite: boolean;
}

function parseConformanceArgs(args: string[]): ConformanceArgs {
  const parsed: ConformanceArgs = { files: [], backend: 'webgpu', browser: null, json: null, overwrite: false };
  walkArgs(args, (flag, value, arg) => {
    if (flag === '--backend') {
      const v = value();
      if (v !== 'webgpu' && v !== 'cpu') throw new UsageError(`--backend must be webgpu or cpu, got "${v}"`);
      parsed.backend = v;
    } else if (flag === '--browser') {
      const v = value();
      if (!isBrowserName(v)) throw new UsageError(`--browser must be ${BROWSER_NAMES.join(' or ')}, got "${v}"`);
      parsed.browser = v;
    } else if (flag === '--json') {
      parsed.json = userPath(value());
    } else if (flag === '--overwrite') {
      parsed.overwrite = true;
    } else if (flag.startsWith('-')) {
      throw new UsageError(`unknown option ${flag}`);
    } else {
      parsed.files.push(arg);
    }
  });
  if (parsed.files.length === 0) throw new UsageError('no case file given');
  if (parsed.browser && parsed.backend === 'cpu') throw new UsageError('--backend cpu runs in Node; --browser runs on the browser\'s WebGPU (give one or the other)');
  return parsed;
}

async function startBackend(kind: 'webgpu' | 'cpu'): Promise<Backend> {
  if (kind === 'cpu') return init({ backend: 'cpu' });
  try {
    return await init();
  } catch (e) {
    throw new SetupError(`cannot start WebGPU: ${(e as Error).message}\n(--backend cpu runs the cases on the CPU reference)`);
  }
}

async function conformance(args: string[]): Promise<number> {
  const options = parseConformanceArgs(args);
  // Before the case files are read: OUT may even be one of them.
  if (options.json) checkNoEarlierFiles('the --json file', [options.json], '--json', options.overwrite);
  const files: CaseFile[] = options.files.map((f) => readCaseFile(userPath(f), f));
  const layout = rowLayout(files.flatMap((f) => f.cases));
  const results: CaseResult[] = [];
  let description: string;
  if (options.browser) {
    // Vite and Puppeteer are large: loaded only when asked for.
    const { openConformancePage } = await import('./conformance/browser/run.ts');
    const page = await openConformancePage(options.browser);
    try {
      description = `${page.backend} in ${page.browser}`;
      console.log(`conformance on ${description}`);
      for (const file of files) {
        if (files.length > 1) console.log(`# ${file.source}`);
        const fileResults = await page.run(file);
        for (const r of fileResults) console.log(formatRow(r, layout));
        results.push(...fileResults);
      }
    } finally {
      await page.close();
    }
  } else {
    const backend = await startBackend(options.backend);
    description = backend.description;
    console.log(`conformance on ${description}`);
    for (const file of files) {
      if (files.length > 1) console.log(`# ${file.source}`);
      results.push(...(await runCaseFile(file, backend, { onResult: (r) => console.log(formatRow(r, layout)) })));
    }
  }
  if (options.json) {
    mkdirSync(dirname(options.json), { recursive: true });
    writeFileSync(options.json, `${JSON.stringify(resultsJson(results, { backend: description, files: files.map((f) => f.source) }), null, 2)}\n`);
  }
  console.log(formatSummary(results));
  return results.every((r) => r.passed) ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || rest.includes('--help') || rest.includes('-h')) {
    console.log(usageOf(command === undefined || command.startsWith('-') ? '' : command));
    return command === undefined ? 2 : 0;
  }
  try {
    if (command === 'conformance') return await conformance(rest);
    // The training commands load the model zoo, data and statistics only when asked for.
    if (command === 'train') return await (await import('./train/train_command.ts')).trainCommand(rest);
    if (command === 'eval') return await (await import('./train/eval_command.ts')).evalCommand(rest);
    if (command === 'adapt') return await (await import('./train/adapt_command.ts')).adaptCommand(rest);
    if (command === 'federated') return await (await import('./train/federated_command.ts')).federatedCommand(rest);
    if (command === 'experiment') return await (await import('./experiment/experiment_command.ts')).experimentCommand(rest);
    throw new UsageError(`unknown command "${command}" (commands: ${COMMANDS.join(', ')})`);
  } catch (e) {
    if (e instanceof CaseFileError) {
      console.error(`welford conformance: ${e.message}`);
      return 2;
    }
    if (e instanceof UsageError) {
      console.error(`welford${USAGES[command] ? ` ${command}` : ''}: ${e.message}\n\n${usageOf(command)}`);
      return 2;
    }
    if (e instanceof SetupError) {
      console.error(`welford ${command}: ${e.message}`);
      return 2;
    }
    if (e instanceof AllocationError || e instanceof DeviceLostError) {
      // What the device could not do, said in full by the error: no stack to add.
      console.error(`welford ${command}: ${e.message}`);
      return 1;
    }
    if (e instanceof RunError) {
      console.error(`welford ${command}: ${e.message}`);
      return 1;
    }
    const stack = e instanceof Error && e.stack ? `\n${e.stack}` : '';
    console.error(`welford ${command}: internal error: ${e instanceof Error ? e.message : String(e)}${stack}`);
    // A failed training run is a runtime failure; conformance keeps its status 2 for a broken setup.
    return command === 'conformance' ? 2 : 1;
  }
}

// Exit explicitly: a WebGPU device can keep Node's event loop alive after the work is done.
process.exit(await main(process.argv.slice(2)));
