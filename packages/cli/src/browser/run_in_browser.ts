// Node: `welford train --browser`. Packs the run's datasets, builds the training page with Vite
// into a temporary folder with the packed files beside it, serves it on 127.0.0.1, drives
// Debian's Chromium or Firefox ESR headless over it (WebGPU on SwiftShader unless --gpu), relays the page's
// progress to the same hooks as a Node run, and returns the result with the checkpoint's bytes.
// The run's abort signal reaches the page (`window.welfordStop`), which stops at the next step
// boundary and answers with the weights so far; before the page trains, it ends the run there.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packDataset } from '@welford/data';
import type { Browser } from 'puppeteer-core';
import type { PreviewServer } from 'vite';
import { RunError } from '../errors.ts';
import type { TrainConfig } from '../train/config.ts';
import { limitedData, type TrainingData } from '../train/data_pipeline.ts';
import type { StoppedTraining, TrainingHooks, TrainingResult } from '../train/run_training.ts';
import { TrainingStopped } from '../train/stop.ts';
import { buildPage, servePage } from './chromium.ts';
import { browserPath, launchBrowser } from './launch.ts';
import type { BrowserName } from './names.ts';
import { decodeMessage, decodeResponse, type TrainRequest } from './protocol.ts';

const pageRoot = fileURLToPath(new URL('./page/', import.meta.url));
/** Loading the page and the adapter; training itself has no time limit. */
const LOAD_TIMEOUT_MS = 120_000;
/** The longest a protocol call may take: the whole run happens inside one `page.evaluate`. */
const RUN_TIMEOUT_MS = 2 ** 31 - 1;

function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Options of a training run in a browser. */
export interface BrowserRunOptions {
  /** Which browser (default chromium). */
  browser?: BrowserName;
  /** Use the machine's GPU instead of SwiftShader. */
  gpu: boolean;
  /** Where lines about the browser go (the progress printer). */
  log(line: string): void;
  /** Stops the run: at the next step boundary once the page trains, else before it starts. */
  signal?: AbortSignal;
}

/** The named browser's executable, or a RunError that says how to get it. */
export function findBrowser(name: BrowserName): string {
  try {
    return browserPath(name);
  } catch (e) {
    throw new RunError(e instanceof Error ? e.message : String(e));
  }
}

/** Trains `config` on `data` in a headless browser (Chromium unless told); the hooks hear what they would in Node. */
export async function trainInBrowser(config: TrainConfig, data: TrainingData, hooks: TrainingHooks, options: BrowserRunOptions): Promise<TrainingResult | StoppedTraining> {
  const name = options.browser ?? 'chromium';
  findBrowser(name);
  const work = mkdtempSync(join(tmpdir(), 'welford-browser-'));
  let server: PreviewServer | null = null;
  let browser: Browser | null = null;
  let stopPage: (() => void) | null = null;
  const throwIfStopped = (): void => {
    if (options.signal?.aborted) throw new TrainingStopped('before training started');
  };
  try {
    const outDir = join(work, 'page');
    await buildPage(pageRoot, outDir, { chunkSizeWarningLimit: 4000 });
    throwIfStopped();
    // Only the samples the run uses travel to the page.
    const { train, test } = limitedData(config, data);
    mkdirSync(join(outDir, 'data'), { recursive: true });
    writeFileSync(join(outDir, 'data', 'train.wfds'), packDataset(train));
    writeFileSync(join(outDir, 'data', 'test.wfds'), packDataset(test));
    server = await servePage(pageRoot, outDir);
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new RunError('the Vite preview server reported no address');

    // The command handles SIGINT and SIGTERM itself (Puppeteer's handlers would exit at once);
    // the browser is closed below, or by Puppeteer when the process exits.
    const launched = await launchBrowser(name, { swiftshader: !options.gpu, timeout: LOAD_TIMEOUT_MS, protocolTimeout: RUN_TIMEOUT_MS, handleSignals: false });
    browser = launched.browser;
    options.log(`browser: ${launched.version} (${launched.executablePath}), ${options.gpu ? 'hardware GPU requested' : 'WebGPU on SwiftShader'}, page ${url}`);
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    const sinks = hooks.statsSinks ?? [];
    page.on('console', (m) => {
      const text = m.text();
      const message = decodeMessage(text);
      if (message === null) {
        if (m.type() === 'error') pageErrors.push(text);
        return;
      }
      if (message.type === 'step') hooks.onStep?.(message.progress);
      else if (message.type === 'metrics') hooks.onMetrics?.(message.record);
      else if (message.type === 'stats') for (const s of sinks) void s.write(message.record);
      else hooks.onLog?.(message.line);
    });
    page.on('pageerror', (e) => pageErrors.push(`uncaught: ${e instanceof Error ? e.message : String(e)}`));
    await page.goto(url, { waitUntil: 'load', timeout: LOAD_TIMEOUT_MS });
    await page.waitForFunction(() => window.welfordTrain !== undefined, { timeout: LOAD_TIMEOUT_MS, polling: 100 });
    throwIfStopped();
    const request: TrainRequest = { config, trainUrl: './data/train.wfds', testUrl: './data/test.wfds' };
    const training = page.evaluate((r: TrainRequest) => window.welfordTrain!(r), request);
    // A page that cannot be reached fails the run's own evaluate, which says why.
    stopPage = () => void page.evaluate(() => window.welfordStop?.()).catch(() => undefined);
    options.signal?.addEventListener('abort', stopPage);
    const response = decodeResponse(await training);
    if (!response.ok) {
      if (response.kind === 'run') throw new RunError(response.message);
      const error = new Error(response.kind === 'non-finite' ? response.message : `the page failed: ${response.message}${pageErrors.length ? `\n${pageErrors.join('\n')}` : ''}`);
      if (response.kind === 'non-finite') error.name = 'NonFiniteLossError';
      else if (response.stack) error.stack = `${error.message}\n(in the page) ${response.stack}`;
      throw error;
    }
    await Promise.all(sinks.map((s) => s.flush?.()));
    const { result, checkpointBase64 } = response;
    if (result.stopped) return { ...result, checkpoint: checkpointBase64 === null ? null : fromBase64(checkpointBase64) };
    if (checkpointBase64 === null) throw new Error('the page finished the run without a checkpoint');
    return { ...result, checkpoint: fromBase64(checkpointBase64) };
  } finally {
    if (stopPage) options.signal?.removeEventListener('abort', stopPage);
    await browser?.close();
    await server?.close();
    rmSync(work, { recursive: true, force: true });
  }
}
