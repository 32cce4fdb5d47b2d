// Node: `welford conformance --browser`. Builds the conformance page with Vite into a temporary
// folder, serves it on 127.0.0.1, drives Debian's Chromium or Firefox ESR headless over it (WebGPU
// on SwiftShader), and hands each validated case file to the page, which runs it with the same
// `runCaseFile` as Node; the results come back whole (./protocol.ts) for the same rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import type { PreviewServer } from 'vite';
import { buildPage, servePage } from '../../browser/chromium.ts';
import { browserPath, launchBrowser } from '../../browser/launch.ts';
import type { BrowserName } from '../../browser/names.ts';
import { SetupError } from '../../errors.ts';
import type { CaseFile } from '../case_file.ts';
import type { CaseResult } from '../runner.ts';
import { decodeRunResponse, encodeCaseFile, type PageRunOptions, type StartResponse } from './protocol.ts';

const pageRoot = fileURLToPath(new URL('./page/', import.meta.url));
/** Starting the browser, loading the page and its adapter. */
const LOAD_TIMEOUT_MS = 120_000;
/** A whole case file runs inside one `page.evaluate`: no limit of its own. */
const RUN_TIMEOUT_MS = 2 ** 31 - 1;

/** A browser with the conformance page loaded and its WebGPU backend started. */
export interface ConformancePage {
  /** The page's backend ("webgpu: ...") and the browser ("HeadlessChrome/...", "Firefox/..."). */
  readonly backend: string;
  readonly browser: string;
  /** Runs every case of `file` on the page, in order. */
  run(file: CaseFile): Promise<CaseResult[]>;
  /** Closes the browser and the server, and removes the built page. */
  close(): Promise<void>;
}

/** Builds and serves the page, launches the named browser headless on it, and starts the page's WebGPU. */
export async function openConformancePage(name: BrowserName): Promise<ConformancePage> {
  try {
    browserPath(name);
  } catch (e) {
    throw new SetupError(e instanceof Error ? e.message : String(e));
  }
  const work = mkdtempSync(join(tmpdir(), 'welford-conformance-'));
  let server: PreviewServer | null = null;
  let browser: Browser | null = null;
  const close = async (): Promise<void> => {
    await browser?.close();
    await server?.close();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const outDir = join(work, 'page');
    await buildPage(pageRoot, outDir, { chunkSizeWarningLimit: 4000 });
    server = await servePage(pageRoot, outDir);
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new SetupError('the Vite preview server reported no address');
    browser = (await launchBrowser(name, { timeout: LOAD_TIMEOUT_MS, protocolTimeout: RUN_TIMEOUT_MS })).browser;
    const page: Page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(`uncaught: ${e instanceof Error ? e.message : String(e)}`));
    const withPageErrors = (text: string): string => (pageErrors.length ? `${text}\n${pageErrors.join('\n')}` : text);
    await page.goto(url, { waitUntil: 'load', timeout: LOAD_TIMEOUT_MS });
    await page.waitForFunction(() => window.welfordConformance !== undefined, { timeout: LOAD_TIMEOUT_MS, polling: 100 });
    const started = JSON.parse(await page.evaluate(() => window.welfordConformanceStart!())) as StartResponse;
    if (!started.ok) throw new SetupError(withPageErrors(`in ${name}: ${started.message}`));
    return {
      backend: started.info.backend,
      browser: started.info.userAgent,
      close,
      async run(file) {
        const options: PageRunOptions = {};
        const response = decodeRunResponse(await page.evaluate((text: string, o: PageRunOptions) => window.welfordConformance!(text, o), encodeCaseFile(file), options));
        if (!response.ok) {
          const error = new Error(withPageErrors(`the page failed on ${file.source}: ${response.message}`));
          if (response.stack) error.stack = `${error.message}\n(in the page) ${response.stack}`;
          throw error;
        }
        return response.results;
      },
    };
  } catch (e) {
    await close();
    throw e;
  }
}
