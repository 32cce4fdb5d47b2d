// `pnpm bench [--quick]`: builds the benchmark page with Vite, runs it in Debian's Chromium
// headless with WebGPU (SwiftShader unless WELFORD_BENCH_GPU=1), prints one table row per
// figure, and writes bench/results/browser.json and browser.md at the repository root.
// Exits non-zero when the page fails or a row is missing; it never judges speed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'puppeteer-core';
import type { PreviewServer } from 'vite';
import { browserPath, buildAndServe, launchBrowser } from '@welford/cli/browser';
import { problems } from './check.ts';
import type { BenchReport } from './report.ts';
import { markdownTable, textTable, type RunInfo } from './table.ts';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', '..', 'bench', 'results');

const args = process.argv.slice(2).filter((a) => a !== '--');
const unknown = args.filter((a) => a !== '--quick');
if (unknown.length) {
  console.error(`pnpm bench: unknown argument(s) ${unknown.join(' ')}; usage: pnpm bench [--quick] (WELFORD_BENCH_GPU=1 for a hardware GPU)`);
  process.exit(2);
}
const quick = args.includes('--quick');
const gpu = process.env.WELFORD_BENCH_GPU === '1';
/** Generous limits: a full run on SwiftShader takes about a quarter of an hour. */
const PAGE_TIMEOUT_MS = (quick ? 15 : 60) * 60_000;

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
  const report = (await page.evaluate(() => window.welfordBench)) as BenchReport;
  await page.close();
  return { report, pageErrors };
}

async function main(): Promise<number> {
  let server: PreviewServer | null = null;
  let browser: Browser | null = null;
  try {
    browserPath('chromium'); // no Chromium: say so before building anything
    // TF.js makes the page's bundle a few MB; that is expected here.
    server = await buildAndServe(join(here, 'page'), join(here, '..', 'dist', 'bench'), { chunkSizeWarningLimit: 8000 });
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error('the Vite preview server reported no address');
    const launched = await launchBrowser('chromium', { swiftshader: !gpu, timeout: 120_000, protocolTimeout: PAGE_TIMEOUT_MS + 60_000 });
    browser = launched.browser;
    const info: RunInfo = {
      date: new Date().toISOString(),
      command: `pnpm bench${quick ? ' --quick' : ''}${gpu ? ' (WELFORD_BENCH_GPU=1)' : ''}`,
      host: launched.version,
      webgpu: gpu ? 'hardware GPU requested (WELFORD_BENCH_GPU=1)' : 'WebGPU on SwiftShader',
    };
    console.log(`browser benchmarks on ${info.host} (${launched.executablePath}), ${quick ? 'quick' : 'full'} mode, page ${url}`);
    const { report, pageErrors } = await runPage(browser, url);
    console.log(`\n${textTable(report, info)}\n`);
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'browser.json'), `${JSON.stringify({ ...info, ...report }, null, 2)}\n`);
    writeFileSync(join(resultsDir, 'browser.md'), markdownTable(report, info));
    console.log(`wrote ${join(resultsDir, 'browser.json')} and browser.md`);
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
