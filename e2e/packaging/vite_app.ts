// The consumer's Vite app (index.html and src/main.ts from @welford/layers' README): built with
// `npx vite build`, served by `npx vite preview`, opened in headless Chromium with WebGPU on
// SwiftShader. Waits on the page's progress (a new log line), never on a fixed time for training.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { launchBrowser } from '@welford/cli/browser';
import { runOk, SILENCE_LIMIT_MS, start, tail } from './processes.ts';

/** What the page logged, and what went wrong around it. */
export interface PageRun {
  log: string;
  errors: string[];
}

/** The first address `vite preview` says it serves on. */
function previewAddress(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onOutput = (text: string): void => {
      out += text;
      // Vite colours its banner; the address is the first http URL once the colour codes are gone.
      const url = /(http:\/\/[\w.:-]+\/)/.exec(out.replace(/\x1b\[[0-9;]*m/g, ''))?.[1];
      if (url) resolve(url);
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    child.on('close', (status) => reject(new Error(`vite preview exited (${status}) before serving:\n${tail(out)}`)));
  });
}

/** Builds and serves the app in `project`, runs it in Chromium until `done(log)` holds. */
export async function runViteApp(project: string, done: (log: string) => boolean): Promise<PageRun> {
  await runOk('npx', ['vite', 'build', '--logLevel', 'warn'], project);
  // Vite's own script, not npx: one process, so that stopping it frees the port.
  const server = start(process.execPath, [join(project, 'node_modules/vite/bin/vite.js'), 'preview', '--host', '127.0.0.1', '--port', '4190'], project);
  const { browser } = await launchBrowser('chromium');
  try {
    const url = await previewAddress(server);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`uncaught: ${e instanceof Error ? e.message : String(e)}`));
    // The browser asks for /favicon.ico on its own; the app has none, as a new Vite app.
    const favicon = (url: string | undefined): boolean => /\/favicon\.ico$/.test(url ?? '');
    page.on('console', (m) => {
      if (m.type() === 'error' && !favicon(m.location().url)) errors.push(`console.error: ${m.text()}`);
    });
    page.on('requestfailed', (r) => {
      if (!favicon(r.url())) errors.push(`request failed: ${r.url()} (${r.failure()?.errorText})`);
    });
    await page.goto(url, { waitUntil: 'load' });
    let log = '';
    let lastChange = Date.now();
    for (;;) {
      const now = await page.$eval('#log', (e) => e.textContent ?? '');
      if (now !== log) [log, lastChange] = [now, Date.now()];
      if (done(log) || /^error:/m.test(log) || errors.length > 0) return { log, errors };
      if (Date.now() - lastChange > SILENCE_LIMIT_MS) return { log, errors: [...errors, `the page logged nothing new for ${SILENCE_LIMIT_MS / 60_000} min`] };
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await browser.close();
    server.kill();
  }
}
