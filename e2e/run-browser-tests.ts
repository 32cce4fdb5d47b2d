// Browser tests: builds the pages under pages/ with Vite, serves them on 127.0.0.1, and drives
// Debian's Chromium or Firefox ESR (never a downloaded one) headless with WebGPU on SwiftShader.
// Prints one line per check and a closing "N passed, N failed"; exits non-zero on any failure.
//   node --import tsx run-browser-tests.ts [--browser chromium|firefox] [PAGE...]
//   (from e2e/; the browser defaults to chromium; pages: smoke, replicas, device-loss; without
//   one: smoke and replicas, device-loss being part of the reliability suite)
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import type { PreviewServer } from 'vite';
import { buildAndServe, launchBrowser, takeBrowserOption, type BrowserName } from '@welford/cli/browser';
import { deviceLossChecks } from './pages/device_loss/checks.ts';
import type { DeviceLossReport } from './pages/device_loss/report.ts';
import type { ReplicasReport } from './pages/replicas/report.ts';
import { ROW, W, X, type SmokeReport } from './pages/smoke/report.ts';
import { check, pageErrorGuard, type Check } from './check.ts';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, 'artifacts');
const PAGE_TIMEOUT_MS = 120_000;


/** Asserts |got - want| <= tol·(1 + |want|) elementwise, naming the first mismatch. */
function expectClose(what: string, got: number[] | undefined, want: number[], tol = 1e-5): void {
  if (!got) throw new Error(`${what}: missing from the page's report`);
  if (got.length !== want.length) throw new Error(`${what}: got ${got.length} values, want ${want.length}`);
  want.forEach((w, i) => {
    if (!(Math.abs(got[i] - w) <= tol * (1 + Math.abs(w)))) throw new Error(`${what}[${i}]: got ${got[i]}, want ${w}`);
  });
}

/** The name core gives an adapter the browser says nothing of. */
const UNKNOWN_ADAPTER = 'adapter with no name (GPUAdapter.info is empty)';

/**
 * Checks that the page found a WebGPU adapter and named it. Chromium says which adapter it is;
 * Firefox leaves `GPUAdapter.info` empty (it withholds the adapter's identity from pages), so
 * there the check wants core's fallback name, and the real name should Firefox ever give one.
 */
function adapterCheck(report: SmokeReport, browser: BrowserName, noPageError: () => void): Check {
  const name = browser === 'firefox' ? `smoke: a WebGPU adapter is found through navigator.gpu (Firefox leaves GPUAdapter.info empty: named '${UNKNOWN_ADAPTER}')` : 'smoke: a WebGPU adapter is found through navigator.gpu';
  return check(name, () => {
    noPageError();
    if (report.runtime !== 'browser') throw new Error(`runtime: got '${report.runtime}', want 'browser'`);
    if (!report.backend.startsWith('webgpu')) throw new Error(`backend: got '${report.backend}'`);
    const { vendor, architecture, device, description } = report.adapterInfo;
    const infoGiven = [vendor, architecture, device, description].some(Boolean);
    if (browser === 'firefox' && !infoGiven) {
      if (report.adapterName !== UNKNOWN_ADAPTER) throw new Error(`adapter name: got '${report.adapterName}' from an empty GPUAdapter.info, want '${UNKNOWN_ADAPTER}'`);
    } else if (!report.adapterName || report.adapterName === UNKNOWN_ADAPTER) {
      throw new Error(`adapter name: got '${report.adapterName}' (GPUAdapter.info: ${JSON.stringify(report.adapterInfo)})`);
    }
  });
}

function smokeChecks(report: SmokeReport, consoleErrors: string[], browser: BrowserName): Check[] {
  const zip = (f: (x: number, w: number) => number) => X.map((x, i) => f(x, W[i]));
  const v = report.values;
  const ok = check;
  const noPageError = pageErrorGuard(report);
  return [
    adapterCheck(report, browser, noPageError),
    ok('smoke: add, mul, exp and a broadcast add give the known values', () => {
      noPageError();
      expectClose('add', v.add, zip((x, w) => x + w));
      expectClose('mul', v.mul, zip((x, w) => x * w));
      expectClose('exp', v.exp, X.map(Math.exp));
      expectClose('addRow', v.addRow, X.map((x, i) => x + ROW[i % 2]));
    }),
    ok('smoke: backward through exp(x·w) gives w·exp(x·w) and x·exp(x·w)', () => {
      noPageError();
      expectClose('y', v.y, zip((x, w) => Math.exp(x * w)));
      expectClose('x.grad', v.gradX, zip((x, w) => w * Math.exp(x * w)));
      expectClose('w.grad', v.gradW, zip((x, w) => x * Math.exp(x * w)));
    }),
    ok('smoke: tidy frees its intermediates', () => {
      noPageError();
      expectClose('tidy', v.tidy, zip((x, w) => Math.exp(2 * x) + w * w));
      if (report.liveBuffersAfter !== report.liveBuffersBefore) {
        throw new Error(`live buffers: ${report.liveBuffersBefore} before the tidy block, ${report.liveBuffersAfter} after`);
      }
    }),
    ok('smoke: no console errors', () => {
      if (consoleErrors.length) throw new Error(consoleErrors.join('\n'));
    }),
  ];
}

function replicasChecks(report: ReplicasReport, consoleErrors: string[]): Check[] {
  const ok = check;
  const noPageError = pageErrorGuard(report);
  return [
    ok('replicas: two Web Workers train on WebGPU devices of their own', () => {
      noPageError();
      if (report.workerBackends.length !== 2) throw new Error(`got ${report.workerBackends.length} replicas`);
      for (const b of report.workerBackends) if (!b.startsWith('webgpu')) throw new Error(`a worker's backend is '${b}'`);
    }),
    ok('replicas: they end with the same weights and statistics, bit for bit', () => {
      noPageError();
      if (report.maxDiffBetweenReplicas !== 0) throw new Error(`replicas differ by up to ${report.maxDiffBetweenReplicas}`);
      if (!report.stateNames.some((n) => n.endsWith('runningVar'))) throw new Error(`no running statistics among ${report.stateNames.join(', ')}`);
    }),
    ok('replicas: with synchronised batch norm they train as one device with the whole batch', () => {
      noPageError();
      expectClose('losses', report.replicaLosses, report.referenceLosses, 1e-5);
      for (const d of report.maxDiffToReference) if (!(d <= 1e-4)) throw new Error(`a replica's weights and statistics differ from one device's by up to ${d}`);
    }),
    ok('replicas: no console errors', () => {
      if (consoleErrors.length) throw new Error(consoleErrors.join('\n'));
    }),
  ];
}

/** The address a preview server serves on. */
function addressOf(server: PreviewServer): string {
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('the Vite preview server reported no address');
  return url;
}

/** Builds one page of pages/ with Vite and serves the build on 127.0.0.1. */
function servePage(name: string, chunkSizeWarningLimit?: number): Promise<PreviewServer> {
  return buildAndServe(join(here, 'pages', name), join(here, 'dist', name), { chunkSizeWarningLimit });
}

/** Loads the page, collects console errors, waits for its report and saves a screenshot. */
async function visit<R>(browser: Browser, url: string, global: 'welfordSmoke' | 'welfordReplicas' | 'welfordDeviceLoss', screenshot: string): Promise<{ report: R; consoleErrors: string[] }> {
  const page: Page = await browser.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`console.error: ${m.text()}${m.location().url ? ` (${m.location().url})` : ''}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e instanceof Error ? e.message : String(e)}`));
  page.on('requestfailed', (r) => consoleErrors.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  // Chromium also says so on the console; Firefox only answers the request.
  page.on('response', (r) => {
    if (r.status() >= 400) consoleErrors.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(url, { waitUntil: 'load', timeout: PAGE_TIMEOUT_MS });
  await page.waitForFunction((name) => window[name] !== undefined, { timeout: PAGE_TIMEOUT_MS, polling: 100 }, global);
  const report = (await page.evaluate((name) => window[name], global)) as R;
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: screenshot as `${string}.png`, fullPage: true });
  await page.close();
  return { report, consoleErrors };
}

/** A page under pages/: where it lives, what it publishes on window, and the checks of that. */
interface PageTest {
  dir: string;
  global: 'welfordSmoke' | 'welfordReplicas' | 'welfordDeviceLoss';
  /** Vite's chunk size warning limit in kB, where the page bundles more than the default allows. */
  chunkSizeWarningLimit?: number;
  checks(report: unknown, consoleErrors: string[], browser: BrowserName): Check[];
}

const PAGES: Record<string, PageTest> = {
  smoke: {
    dir: 'smoke',
    global: 'welfordSmoke',
    checks: (report, errors, browser) => {
      const r = report as SmokeReport;
      if (r.adapterName) console.log(`  adapter: ${r.adapterName}`);
      return smokeChecks(r, errors, browser);
    },
  },
  // The page and its worker each bundle core, the layers and the training code (about 500 kB).
  replicas: { dir: 'replicas', global: 'welfordReplicas', chunkSizeWarningLimit: 1000, checks: (r, errors) => replicasChecks(r as ReplicasReport, errors) },
  'device-loss': {
    dir: 'device_loss',
    global: 'welfordDeviceLoss',
    // Core and the layers in one bundle (about 530 kB).
    chunkSizeWarningLimit: 1000,
    checks: (report, errors) => {
      const r = report as DeviceLossReport;
      console.log(`  fit stopped after step ${r.stepReached}: ${r.fitError?.name}: ${r.fitError?.message}`);
      return deviceLossChecks(r, errors);
    },
  },
};
const DEFAULT_PAGES = ['smoke', 'replicas'];

async function main(args: string[]): Promise<number> {
  let browserName: BrowserName;
  let names: string[];
  try {
    ({ browser: browserName, rest: names } = takeBrowserOption(args));
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const unrecognised = names.filter((n) => !Object.hasOwn(PAGES, n));
  if (unrecognised.length) {
    console.error(`unknown page${unrecognised.length === 1 ? '' : 's'} ${unrecognised.join(', ')}; the pages are ${Object.keys(PAGES).join(', ')}`);
    return 2;
  }
  let passed = 0;
  let failed = 0;
  const record = (name: string, error?: unknown) => {
    if (error === undefined) {
      passed++;
      console.log(`  ok    ${name}`);
    } else {
      failed++;
      console.log(`  FAIL  ${name}\n        ${(error instanceof Error ? error.message : String(error)).replaceAll('\n', '\n        ')}`);
    }
  };
  const runChecks = (checks: Check[]) => {
    for (const check of checks) {
      try {
        check.run();
        record(check.name);
      } catch (e) {
        record(check.name, e);
      }
    }
  };

  let browser: Browser | null = null;
  try {
    for (const name of names.length ? names : DEFAULT_PAGES) {
      const test = PAGES[name];
      let server: PreviewServer | null = null;
      try {
        server = await servePage(test.dir, test.chunkSizeWarningLimit);
        const url = addressOf(server);
        if (!browser) {
          const launched = await launchBrowser(browserName, { timeout: PAGE_TIMEOUT_MS, protocolTimeout: PAGE_TIMEOUT_MS });
          browser = launched.browser;
          console.log(`browser tests on ${launched.version} (${launched.executablePath})`);
        }
        console.log(`${name}: page ${url}`);
        const { report, consoleErrors } = await visit<unknown>(browser, url, test.global, join(artifacts, `${name}.png`));
        runChecks(test.checks(report, consoleErrors, browserName));
      } catch (e) {
        record(`${name}: the page builds, loads and reports`, e);
      } finally {
        await server?.close();
      }
    }
  } finally {
    await browser?.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
