// Node: experiments' charts as PNG files. The figure page (plot_page/) is built with Vite and
// served on 127.0.0.1; headless Chromium (Debian's) draws each result with uPlot and the
// figure is photographed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExperimentResult } from '@welford/experiments';
import type { Browser } from 'puppeteer-core';
import type { PreviewServer } from 'vite';
import { buildPage, servePage } from '../browser/chromium.ts';
import { launchBrowser } from '../browser/launch.ts';
import { findBrowser } from '../browser/run_in_browser.ts';
import type { FigureMeta } from './plot_page/figure.ts';

const pageRoot = fileURLToPath(new URL('./plot_page/', import.meta.url));
const TIMEOUT_MS = 120_000;

/** A PNG of each result's figure, in the order given. */
export async function renderFigures(results: readonly ExperimentResult[], meta: FigureMeta): Promise<Uint8Array[]> {
  findBrowser('chromium'); // no Chromium: a RunError that says how to get one, before building the page
  const work = mkdtempSync(join(tmpdir(), 'welford-figure-'));
  let server: PreviewServer | null = null;
  let browser: Browser | null = null;
  try {
    const outDir = join(work, 'page');
    await buildPage(pageRoot, outDir);
    server = await servePage(pageRoot, outDir);
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error('the figure page server has no local address');
    ({ browser } = await launchBrowser('chromium', { timeout: TIMEOUT_MS }));
    const page = await browser.newPage();
    await page.setViewport({ width: 1240, height: 800, deviceScaleFactor: 1 });
    await page.goto(url, { waitUntil: 'load', timeout: TIMEOUT_MS });
    await page.waitForFunction(() => typeof window.drawFigure === 'function', { timeout: TIMEOUT_MS });
    const images: Uint8Array[] = [];
    for (const result of results) {
      await page.evaluate((r, m) => window.drawFigure(r, m), result, meta);
      const figure = await page.$('#figure');
      if (!figure) throw new Error('the figure page has no #figure');
      images.push(await figure.screenshot({ type: 'png' }));
    }
    return images;
  } finally {
    await browser?.close();
    await server?.close();
    rmSync(work, { recursive: true, force: true });
  }
}
