// `pnpm bench [--quick] [--browser chromium|firefox]`: builds the benchmark page with Vite, runs it
// headless with WebGPU in Debian's Chromium (the default) or Firefox ESR (SwiftShader unless
// WELFORD_BENCH_GPU=1), prints one table row per figure, and writes
// bench/results/browser-<browser>.json and .md at the repository root.
// Exits non-zero when the page fails or a row is missing; it never judges speed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'puppeteer-core';
import type { PreviewServer } from 'vite';
import { BROWSER_NAMES, browserPath, buildAndServe, launchBrowser, takeBrowserOption, type BrowserName } from '@welford/cli/browser';
import { problems } from './check.ts';
import { decodeReport, type BenchReport } from './report.ts';
import { markdownTable, textTable, type RunInfo } from './table.ts';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', '..', 'bench', 'results');

const USAGE = `usage: pnpm bench [--quick] [--browser ${BROWSER_NAMES.join('|')}] (WELFORD_BENCH_GPU=1 for a hardware GPU)`;

function parseArgs(argv: string[]): { quick: boolean; browser: BrowserName } {
  const wrong = (message: string): never => {
    console.error(`pnpm bench: ${message}; ${USAGE}`);
    process.exit(2);
  };
  let quick = false;
  let taken: { browser: BrowserName; rest: string[] } = { browser: 'chromium', rest: [] };
  try {
    taken = takeBrowserOption(argv);
  } catch (e) {
    wrong((e as Error).message);
  }
  for (const a of taken.rest) {
    if (a === '--') continue;
    else if (a === '--quick') quick = true;
    else wrong(`unknown argument ${a}`);
  }
  return { quick, browser: taken.browser };
}

const { quick, browser: browserName } = parseArgs(process.argv.slice(2));
const gpu = process.env.WELFORD_BENCH_GPU === '1';
/**
 * Limits against a hang, not budgets: a quick run on SwiftShader takes a few minutes (ResNet-18
 * in welford only); a full run there (TF.js's ResNet-18 at batch 64) would take hours. On a GPU
 * either takes a minute or two.
 */
const PAGE_TIMEOUT_MS = (quick ? 30 : 8 * 60) * 60_000;

async function runPage(browser: Browser, url: string): Promise<{ report: BenchReport; pageErrors: string[] }> {
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  const t0 = Date.now();
  page.on('console', (m) => {
    const text = m.text();
    if (m.type() === 'error') pageErrors.push(`console.error: ${text}`);
    else if (text.startsWith('[bench] ')) console.log(`  ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s  ${text.slice(8)}`);
  });
  page.on('pageerror', (e) => pageErrors.push(`uncaught: ${e instanceof Error ? e.message : String(e)}`));
  page.on('requestfailed', (r) => pageErrors.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  await page.goto(`${url}${quick ? '?quick=1' : ''}`, { waitUntil: 'load', timeout: 120_000 });
  await page.waitForFunction(() => window.welfordBench !== undefined, { timeout: PAGE_TIMEOUT_MS, polling: 1000 });
  const report = decodeReport((await page.evaluate(() => window.welfordBench)) as string);
  await page.close();
  return { report, pageErrors };
}

async function main(): Promise<number> {
  let server: PreviewServer | null = null;
  let browser: Browser | null = null;
  try {
    browserPath(browserName); // no such browser: say so before building anything
    // TF.js makes the page's bundle a few MB; that is expected here.
    server = await buildAndServe(join(here, 'page'), join(here, '..', 'dist', 'bench'), { chunkSizeWarningLimit: 8000 });
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error('the Vite preview server reported no address');
    const launched = await launchBrowser(browserName, { swiftshader: !gpu, timeout: 120_000, protocolTimeout: PAGE_TIMEOUT_MS + 60_000 });
    browser = launched.browser;
    const info: RunInfo = {
      date: new Date().toISOString(),
      command: `pnpm bench${quick ? ' --quick' : ''}${browserName === 'chromium' ? '' : ` --browser ${browserName}`}${gpu ? ' (WELFORD_BENCH_GPU=1)' : ''}`,
      host: launched.version,
      browser: { name: browserName, version: launched.version },
      // Firefox is given SwiftShader as its only Vulkan driver (VK_ICD_FILENAMES), Chromium is told to use it.
      webgpu: `${browserName === 'firefox' ? 'WebGPU by wgpu' : 'WebGPU by Dawn'} ${gpu ? 'on a hardware GPU (WELFORD_BENCH_GPU=1)' : 'on SwiftShader'}`,
    };
    console.log(`browser benchmarks in ${browserName} ${info.host} (${launched.executablePath}), ${quick ? 'quick' : 'full'} mode, page ${url}`);
    const { report, pageErrors } = await runPage(browser, url);
    console.log(`\n${textTable(report, info)}\n`);
    mkdirSync(resultsDir, { recursive: true });
    const base = join(resultsDir, `browser-${browserName}`);
    writeFileSync(`${base}.json`, `${JSON.stringify({ ...info, ...report }, null, 2)}\n`);
    writeFileSync(`${base}.md`, markdownTable(report, info));
    console.log(`wrote ${base}.json and browser-${browserName}.md`);
    for (const l of report.losses.filter((l) => l.agree === false)) console.log(`warning: ${l.model}: the first-step losses of welford and TF.js disagree`);
    const wrong = problems(report, pageErrors);
    for (const p of wrong) console.error(`FAIL  ${p}`);
    return wrong.length ? 1 : 0;
  } catch (e) {
    console.error(`FAIL  the benchmark page did not run: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    await browser?.close();
    await server?.close();
  }
}

process.exitCode = await main();
