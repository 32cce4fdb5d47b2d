// Browser tests of the playground as it is deployed: its own build (`pnpm --filter
// @welford/playground build`: datasets packed, `vite build`) copied under a nested sub-path and
// served by a plain static server on 127.0.0.1 (deployed_site.ts), driven by Debian's Chromium or
// Firefox headless with WebGPU on SwiftShader. Models and batches are tiny (SwiftShader is a CPU).
// Prints one line per check and "N passed, N failed"; exits non-zero on any failure.
// Screenshots go to e2e/artifacts/ (and, from Chromium, docs/playground.png).
//   node --import tsx playground/run.ts [--browser chromium|firefox] [--short] [regular expression of check names]   (from e2e/)
// --short keeps the checks marked SHORT_RUN (the CI's Firefox run: one of each kind of thing the page does).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TimeoutError, type Browser, type BrowserContext, type HTTPRequest, type Page } from 'puppeteer-core';
import { browserPath, launchBrowser, takeBrowserOption, type BrowserName } from '@welford/cli/browser';
import { DEFAULT_CONFIG, toQuery, type PlaygroundConfig } from '../../playground/src/config.ts';
import type { PlaygroundState } from '../../playground/src/page_state.ts';
import { deployPlayground, SUB_PATH, type DeployedSite } from './deployed_site.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '../..');
const artifacts = join(here, '../artifacts');
/** How long a page load, a browser start or one protocol call may take. */
const TIMEOUT_MS = 120_000;
/** How long a wait tolerates a page whose state does not move at all. */
const STALL_MS = 120_000;
/** How often a wait looks at whether the page's state still moves. */
const POLL_SLICE_MS = 5_000;
/** What Chromium logs of a destroyed device; the device-loss check tolerates these lines and no others. */
const LOSS_CONSOLE_ERROR = /destroyed|device (was |is )?lost/i;

/** A configuration small enough for SwiftShader: an 8-16-16 CNN, batches of 32, short evaluations. */
const TINY: PlaygroundConfig = { ...DEFAULT_CONFIG, width: 8, groups: 4, batch: 32, lr: 0.1, statsEvery: 5, evalEvery: 20, testSamples: 100 };

/** The charts a first visit must see without scrolling on a 1440×900 screen. */
const MAIN_CHARTS = ['chart-loss', 'chart-accuracy', 'chart-act-mean', 'chart-act-var', 'chart-batch-mean'];

/** Marks a check that the shortened run (`--short`) keeps: one of each kind of thing the page does. */
const SHORT_RUN = true;
type Check = [name: string, run: () => Promise<void>, inShortRun?: boolean];

class Harness {
  readonly consoleErrors: string[] = [];
  /** Every URL a page asked for (navigations included). */
  readonly requested: string[] = [];
  page!: Page;

  constructor(
    readonly context: BrowserContext,
    readonly base: string,
    readonly browserName: BrowserName,
  ) {}

  /** Opens the playground at `query` in a fresh tab (the previous one closed); `noWebGpu` hides navigator.gpu. */
  async open(query: string, { noWebGpu = false, beforeLoad }: { noWebGpu?: boolean; beforeLoad?: (page: Page) => Promise<void> } = {}): Promise<Page> {
    await this.page?.close();
    const page = await this.context.newPage();
    await beforeLoad?.(page);
    await page.setViewport({ width: 1440, height: 1000 });
    page.on('console', (m) => {
      if (m.type() === 'error') this.consoleErrors.push(`console.error: ${m.text()}`);
    });
    page.on('pageerror', (e) => this.consoleErrors.push(`uncaught: ${e instanceof Error ? e.message : String(e)}`));
    page.on('request', (r) => this.requested.push(r.url()));
    page.on('requestfailed', (r) => this.consoleErrors.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
    // A string, not a function: the page must not see the helpers tsx adds to compiled functions.
    if (noWebGpu) await page.evaluateOnNewDocument("Object.defineProperty(Navigator.prototype, 'gpu', { get() { return undefined; } });");
    await page.goto(`${this.base}${query ? `?${query}` : ''}`, { waitUntil: 'load', timeout: TIMEOUT_MS });
    this.page = page;
    return page;
  }

  state(): Promise<PlaygroundState> {
    return this.page.evaluate(() => JSON.parse(JSON.stringify(window.playgroundState)) as PlaygroundState);
  }

  /**
   * Waits until `predicate(state)` holds (evaluated in the page). Slow progress is no failure:
   * it fails only when the page's state stops moving (no step, evaluation, read, checkpoint,
   * phase or experiment change) for `stall` ms, and then says what the state was.
   */
  async until(what: string, predicate: string, stall = STALL_MS): Promise<PlaygroundState> {
    const poll = `(() => { const s = window.playgroundState; return !!s && (${predicate}); })()`;
    let mark = '';
    let movedAt = Date.now();
    for (;;) {
      try {
        await this.page.waitForFunction(poll, { timeout: Math.min(POLL_SLICE_MS, stall), polling: 100 });
        return this.state();
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
      }
      const s = await this.state().catch(() => null);
      const now = progressMark(s);
      if (now !== mark) {
        mark = now;
        movedAt = Date.now();
      } else if (Date.now() - movedAt >= stall) {
        throw new Error(`waiting for ${what} (${predicate}): no progress for ${stall / 1000} s; page at step ${s?.step}, run ${s?.run}, phase ${s?.phase}, ${s?.query}, error ${s?.error}, notices ${JSON.stringify(s?.notices)}`);
      }
    }
  }

  ready(): Promise<PlaygroundState> {
    return this.until('a model to be built', "s.phase === 'ready' && s.run === 'paused' && s.predictions.count > 0");
  }

  async click(selector: string): Promise<void> {
    await this.page.click(selector);
  }

  /** Trains until at least `step` steps, then pauses and waits for the pause's evaluation and checkpoint. */
  async trainTo(step: number): Promise<PlaygroundState> {
    await this.click('#start');
    await this.until(`step ${step}`, `s.step >= ${step}`);
    const saves = (await this.state()).saves;
    await this.click('#pause');
    return this.until('the pause to finish', `s.run === 'paused' && s.saves > ${saves}`);
  }

  /** Saves a full-page screenshot to e2e/artifacts/ (Firefox's with a `firefox-` prefix); Chromium's also to `also`. */
  async screenshot(name: string, ...also: string[]): Promise<void> {
    mkdirSync(artifacts, { recursive: true });
    const chromium = this.browserName === 'chromium';
    const path = join(artifacts, chromium ? name : `${this.browserName}-${name}`) as `${string}.png`;
    // From the top, as a visitor first sees it: a page scrolled down (to a lab button) leaves the
    // sticky controls and the cards above the viewport unpainted in a full-page capture.
    await this.page.evaluate(() => window.scrollTo(0, 0));
    await frames(this.page);
    await this.page.screenshot({ path, fullPage: true });
    if (chromium) for (const other of also) writeFileSync(other, readFileSync(path));
  }
}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** What changes while the page makes progress (training, evaluating, loading, measuring). */
function progressMark(s: PlaygroundState | null): string {
  if (!s) return 'no state';
  const e = s.experiment;
  return JSON.stringify([s.phase, s.progress?.label, s.run, s.step, s.losses.length, s.tests.length, s.records.length, s.saves, s.predictions, s.notices.length, e && [e.name, e.running, e.rows, e.points, e.steps]]);
}

const mean = (xs: number[]): number => xs.reduce((s, v) => s + v, 0) / xs.length;

/**
 * Every series of every chart holds finite numbers: the running statistics only where the norm
 * keeps them, the scale/shift and covariate-shift charts only where the model has norm layers
 * (without them those charts have no series and say why they are empty).
 */
function expectChartsFilled(s: PlaygroundState, { running, norms = true }: { running: boolean; norms?: boolean }): void {
  const ids = ['chart-loss', 'chart-accuracy', 'chart-act-mean', 'chart-act-var', 'chart-batch-mean', 'chart-batch-var', 'chart-hist', 'chart-grad', 'chart-dead', 'chart-affine', 'chart-shift'];
  const normOnly = new Set(['chart-affine', 'chart-shift']);
  for (const id of ids) {
    const chart = s.charts[id];
    expect(chart, `${id}: no chart on the page`);
    if (!norms && normOnly.has(id)) {
      expect(chart.series.length === 0, `${id}: series ${chart.series} in a model without norm layers`);
      continue;
    }
    expect(chart.series.length > 0, `${id}: no series`);
    chart.series.forEach((name, i) => {
      if (!running && name.startsWith('running')) {
        expect(chart.points[i] === 0, `${id}: "${name}" shown for a layer that keeps no running statistics`);
        return;
      }
      expect(chart.points[i] > 0, `${id}: series "${name}" holds no finite value (${JSON.stringify(chart)})`);
    });
  }
}

/**
 * The per-layer series of a 3-stage CNN (conv{i}, bn{i}, relu{i}): the dead fraction from the ReLU
 * modules, one per stage (a norm's output is pre-ReLU); what each layer normalizes and the
 * covariate shift from the norms only (from the ReLUs when there are no norms).
 */
function expectCnnLayerSeries(s: PlaygroundState, norm: PlaygroundConfig['norm']): void {
  const relus = ['relu1', 'relu2', 'relu3'];
  // Legends name a norm layer by its module and what it is: bn1 of a group-norm model is "bn1 (GN)".
  const tag = NORM_TAGS[norm];
  const normalized = tag ? ['bn1', 'bn2', 'bn3'].map((n) => `${n} (${tag})`) : relus;
  const series = (id: string) => s.charts[id].series.join(', ');
  expect(series('chart-dead') === relus.join(', '), `chart-dead: series ${series('chart-dead')}, want ${relus.join(', ')}`);
  for (const id of ['chart-act-mean', 'chart-act-var']) expect(series(id) === normalized.join(', '), `${id}: series ${series(id)}, want ${normalized.join(', ')}`);
  if (tag) expect(series('chart-shift') === normalized.join(', '), `chart-shift: series ${series('chart-shift')}, want ${normalized.join(', ')}`);
}

/** The legend tag of each norm's layers ('' for none: its probed layers are the ReLUs). */
const NORM_TAGS: Record<PlaygroundConfig['norm'], string> = { batch: 'BN', group: 'GN', layer: 'LN', instance: 'IN', batchrenorm: 'BRN', none: '' };
/** What the captions call each norm's layers. */
const NORM_WORDS: Record<PlaygroundConfig['norm'], RegExp> = {
  batch: /batch norm \(BatchNorm2d\)/i,
  group: /group norm \(GroupNorm, \d+ groups\)/i,
  layer: /layer norm \(GroupNorm, 1 group\)/i,
  instance: /instance norm \(InstanceNorm2d\)/i,
  batchrenorm: /batch renorm \(BatchRenorm2d\)/i,
  none: /ReLU/,
};

/** The captions and titles that name the focus layer and the norm say what the model has, and nothing of another norm. */
async function expectNormCaptions(page: Page, norm: PlaygroundConfig['norm']): Promise<void> {
  const text = await page.evaluate(() => ({
    focus: document.getElementById('focus-caption')!.textContent ?? '',
    hist: document.getElementById('hist-layer')!.textContent ?? '',
    actMean: document.getElementById('act-mean-caption')!.textContent ?? '',
    options: [...document.querySelectorAll<HTMLOptionElement>('#focus option')].map((o) => o.textContent ?? ''),
  }));
  const words = NORM_WORDS[norm];
  expect(words.test(text.focus) && words.test(text.hist), `${norm}: focus caption "${text.focus}", histogram title "${text.hist}"`);
  if (norm !== 'none') expect(words.test(text.actMean), `${norm}: the caption of what each layer normalizes: "${text.actMean}"`);
  else expect(/No norm layers/.test(text.actMean), `none: the caption of what each layer normalizes: "${text.actMean}"`);
  // A layer-norm model's captions must not speak of group norm, a group-norm model's not of batch norm, and so on.
  const others = (Object.keys(NORM_WORDS) as PlaygroundConfig['norm'][]).filter((k) => k !== norm && k !== 'none');
  for (const other of others) expect(!NORM_WORDS[other].test(text.focus + text.hist + text.actMean), `${norm}: the captions speak of ${other}: "${text.focus}" "${text.hist}" "${text.actMean}"`);
  const tag = NORM_TAGS[norm];
  expect(text.options.length > 0 && (tag === '' || text.options.includes(`bn1 (${tag})`)), `${norm}: the layer menu offers ${text.options.join(', ')}`);
}

/** The text of the visible element `selector` ('' when it is hidden or missing). */
function visibleText(page: Page, selector: string): Promise<string> {
  return page.evaluate((sel) => {
    const e = document.querySelector<HTMLElement>(sel);
    return e && e.offsetHeight > 0 ? (e.textContent ?? '') : '';
  }, selector);
}

/** Waits for two animation frames: resize observers have run and the charts have been redrawn. */
function frames(page: Page): Promise<void> {
  return page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
}

/** Opens the lab (a <details> closed by default) so that its buttons can be clicked. */
async function openLab(page: Page): Promise<void> {
  await page.evaluate(() => {
    (document.getElementById('lab') as HTMLDetailsElement).open = true;
  });
  await frames(page);
}

/** Opens the tiny model's page and clicks the lab's button for `experiment`. */
async function clickExperiment(h: Harness, query: string, experiment: string): Promise<void> {
  await h.open(query);
  await h.ready();
  await openLab(h.page);
  await h.click(`.lab-preset[data-experiment="${experiment}"]`);
}

/** Sets a form field the way a user's edit does (value, then input and change events). */
async function setField(page: Page, selector: string, value: string): Promise<void> {
  await page.$eval(
    selector,
    (e, v) => {
      (e as HTMLInputElement).value = v;
      e.dispatchEvent(new Event('input', { bubbles: true }));
      e.dispatchEvent(new Event('change', { bubbles: true }));
    },
    value,
  );
}

function checks(h: Harness, site: DeployedSite, downloads: string): Check[] {
  const tinyQuery = toQuery(TINY);
  let trainedStep = 0;
  return [
    [
      'loads on WebGPU with the configuration of the URL, which round-trips',
      async () => {
        await h.open(tinyQuery);
        const s = await h.ready();
        expect(s.backend === 'webgpu', `backend: got ${s.backend}`);
        expect(s.adapter && s.adapter.length > 0, 'no adapter name shown');
        expect(s.query === tinyQuery, `the URL's settings changed on load:\n  given ${tinyQuery}\n  shown ${s.query}`);
        const search = await h.page.evaluate(() => location.search.slice(1));
        expect(search === tinyQuery, `location.search: got ${search}`);
        const shown = await h.page.evaluate(() => ({ norm: document.querySelector<HTMLInputElement>('#norm input:checked')?.value, batch: (document.getElementById('batch') as HTMLInputElement).value, width: (document.getElementById('width') as HTMLSelectElement).value }));
        expect(shown.norm === 'batch' && shown.batch === '32' && shown.width === '8', `the controls show ${JSON.stringify(shown)}`);
      },
      SHORT_RUN,
    ],
    [
      'the first view: main charts above the fold at 1440×900, no horizontal scrolling at 390×844, a guided start',
      async () => {
        // In the suite it follows the first load (step 0, nothing restored); run alone, it loads the page itself.
        if (!h.page) {
          await h.open(tinyQuery);
          await h.ready();
        }
        const page = h.page;
        const s = await h.state();
        try {
          await page.setViewport({ width: 1440, height: 900 });
          await page.evaluate(() => window.scrollTo(0, 0));
          await frames(page);
          const tops = await page.evaluate((ids) => Object.fromEntries(ids.map((id) => [id, Math.round(document.getElementById(id)!.getBoundingClientRect().top + scrollY)])), MAIN_CHARTS);
          console.log(`        at 1440×900, chart tops: ${Object.entries(tops).map(([id, top]) => `${id} ${top}`).join(', ')}`);
          const below = Object.entries(tops).filter(([, top]) => !(top < 900));
          expect(below.length === 0, `below the fold at 1440×900: ${below.map(([id, top]) => `#${id} at ${top} px`).join(', ')}`);
          const first = await page.evaluate(() => ({
            labOpen: (document.getElementById('lab') as HTMLDetailsElement).open,
            truths: [...document.querySelectorAll('#predictions .prediction.truth figcaption')].map((e) => e.textContent),
            deadNote: document.querySelector('#chart-dead .chart-empty')?.textContent ?? '',
            deadEmpty: document.getElementById('chart-dead')!.classList.contains('empty'),
            deadPlot: getComputedStyle(document.querySelector('#chart-dead .u-wrap')!).visibility,
            markers: [...document.querySelectorAll('#chart-affine .u-legend .u-marker')].map((e) => getComputedStyle(e).borderBottomStyle),
          }));
          expect(!first.labOpen, 'the experiments lab is open on a first visit');
          expect((await visibleText(page, '#guide')).includes('Train'), 'no guided start beside the Train button before the first step');
          if (s.step === 0) {
            expect(first.truths.length === 16 && first.truths.every((t) => t && t.length > 0), `before the first step the test images do not show their true labels: ${JSON.stringify(first.truths)}`);
            expect(first.deadEmpty && first.deadPlot === 'hidden' && first.deadNote === 'Appears once training starts.', `the empty Dead ReLUs chart: ${JSON.stringify(first)}`);
          }
          // γ solid, β dashed, per norm layer: the legend draws them so.
          expect(first.markers.length === 6 && first.markers.every((m, i) => m === (i % 2 === 0 ? 'solid' : 'dashed')), `γ/β legend markers: ${first.markers}`);
          // Every chart has a closed "What am I looking at?": plain words, then the exact terms.
          const explain = await page.evaluate(() => [...document.querySelectorAll<HTMLDetailsElement>('details.explain')].map((d) => ({ chart: d.dataset.chart, open: d.open, summary: d.querySelector('summary')!.textContent })));
          const without = await page.evaluate(() => [...document.querySelectorAll('.grid .card')].filter((card) => !card.querySelector('details.explain')).map((card) => card.querySelector('h2')?.textContent));
          const cards = await page.evaluate(() => document.querySelectorAll('.grid .card').length);
          expect(without.length === 0 && explain.length === cards && explain.every((x) => !x.open && x.summary === 'What am I looking at?'), `explanations: ${JSON.stringify(explain)}; cards without one: ${without.join(', ')}`);
          await h.click('details.explain[data-chart="chart-loss"] > summary');
          const opened = await page.evaluate(() => {
            const d = document.querySelector<HTMLDetailsElement>('details.explain[data-chart="chart-loss"]')!;
            const [plain, exact] = [...d.querySelectorAll('p')].map((p) => (p.offsetHeight > 0 ? p.textContent : ''));
            return { open: d.open, plain, exact };
          });
          expect(opened.open && /guess/.test(opened.plain ?? '') && /cross-entropy/.test(opened.exact ?? ''), `the loss chart's explanation, opened: ${JSON.stringify(opened)}`);
          await h.click('details.explain[data-chart="chart-loss"] > summary');
          await h.screenshot('playground-1440x900.png');
          await page.setViewport({ width: 390, height: 844 });
          await frames(page);
          await new Promise((r) => setTimeout(r, 300));
          await frames(page);
          const fit = await page.evaluate(() => {
            const inner = window.innerWidth;
            const wide = [...document.querySelectorAll<HTMLElement>('body *')]
              .filter((e) => e.getBoundingClientRect().right > inner + 0.5 && e.getClientRects().length > 0)
              .slice(0, 6)
              .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${e.className && typeof e.className === 'string' ? `.${e.className.split(' ')[0]}` : ''} (right ${Math.round(e.getBoundingClientRect().right)})`);
            return { scroll: document.documentElement.scrollWidth, inner, wide };
          });
          console.log(`        at 390×844: page ${fit.scroll} px wide in a ${fit.inner} px window`);
          expect(fit.scroll <= fit.inner, `at 390×844 the page is ${fit.scroll} px wide in a ${fit.inner} px window; wider elements: ${fit.wide.join(', ')}`);
          await h.screenshot('playground-390x844.png');
        } finally {
          await page.setViewport({ width: 1440, height: 1000 });
        }
      },
      SHORT_RUN,
    ],
    [
      'trains the small CNN a few dozen steps and the loss falls',
      async () => {
        const s = await h.trainTo(100);
        const losses = s.losses.map(([, l]) => l);
        expect(losses.length >= 8, `only ${losses.length} losses read`);
        expect(losses.every(Number.isFinite), `non-finite losses: ${losses}`);
        const first = mean(losses.slice(0, 2));
        const last = mean(losses.slice(-3));
        console.log(`        loss ${first.toFixed(3)} -> ${last.toFixed(3)} in ${s.step} steps; test accuracy ${s.tests.map((t) => t.accuracy.toFixed(2)).join(', ')}`);
        console.log(`        ${losses.map((l) => l.toFixed(2)).join(' ')}`);
        expect(last < first - 0.2, `loss from ${first.toFixed(3)} to ${last.toFixed(3)}: it did not fall by 0.2`);
        const accuracy = s.tests.at(-1)!.accuracy;
        expect(accuracy > 0.25, `test accuracy ${accuracy} is not well above chance (0.1)`);
        expect(s.tests.length >= 2 && s.tests.every((t) => Number.isFinite(t.loss)), `test evaluations: ${JSON.stringify(s.tests)}`);
        trainedStep = s.step;
      },
      SHORT_RUN,
    ],
    [
      'every chart holds real numbers, the grid shows predictions, steps per second and the adapter are shown',
      async () => {
        const s = await h.until('the charts to be drawn', "s.charts['chart-shift'] && s.charts['chart-shift'].points.some((p) => p > 0)", 10_000);
        expectChartsFilled(s, { running: true });
        expect(s.predictions.count === 16 && s.predictions.step === s.step, `prediction grid: ${JSON.stringify(s.predictions)} at step ${s.step}`);
        expect(s.records.length >= 5, `stats records: ${s.records}`);
        const status = await h.page.evaluate(() => ({ rate: document.getElementById('rate')!.textContent, adapter: document.getElementById('adapter')!.textContent }));
        expect(status.adapter && status.adapter !== 'starting…', `adapter: ${status.adapter}`);
        await h.click('#start');
        const running = await h.until('a step rate', 's.stepsPerSecond > 0');
        await h.click('#pause');
        await h.until('the pause', "s.run === 'paused'");
        console.log(`        ${running.stepsPerSecond.toFixed(1)} steps/s on ${running.adapter}`);
        await h.screenshot('playground.png', join(here, '../../docs/playground.png'));
      },
      SHORT_RUN,
    ],
    [
      'a reload restores the last run (settings and weights) from IndexedDB',
      async () => {
        // In the suite it follows training; run alone, it trains a run of its own to restore first.
        if (!h.page || (await h.state()).step === 0) {
          await h.open(tinyQuery);
          await h.ready();
          await h.trainTo(20);
        }
        const before = await h.state();
        await h.open('');
        const s = await h.ready();
        expect(s.query === before.query, `settings after reload: ${s.query}, before: ${before.query}`);
        expect(s.restoredStep === before.step, `restored step ${s.restoredStep}, expected ${before.step}`);
        expect(s.step === before.step, `step counter ${s.step}, expected ${before.step}`);
        expect(s.epoch === before.epoch, `epoch ${s.epoch} after reload, expected ${before.epoch}`);
        // What the page said while it loaded: the data, the model, the saved weights, the first evaluation.
        const said = ['data', 'unpack', 'model', 'weights', 'evaluate'];
        expect(said.every((t) => s.waits.includes(t)) && s.progress === null, `waits shown while loading: ${s.waits.join(', ')}; progress now ${JSON.stringify(s.progress)}`);
        // The curves come back with the weights.
        const drawn = await h.until('the restored loss and accuracy curves', "['chart-loss', 'chart-accuracy', 'chart-act-mean'].every((id) => s.charts[id] && s.charts[id].points.some((p) => p > 0))", 20_000);
        expect(drawn.step === before.step, `the restored page trained by itself: step ${drawn.step}`);
        trainedStep = s.step;
      },
      SHORT_RUN,
    ],
    [
      'a checkpoint saves, reloads, and one of another architecture or a corrupt file is refused with the model unchanged',
      async () => {
        await h.click('#save');
        const file = await waitForFile(downloads, '.safetensors');
        expect(file.includes(`step${trainedStep}`), `download name ${file} lacks the step ${trainedStep}`);
        const before = await h.page.evaluate(() => window.playground.weightsChecksum());
        const corrupt = join(downloads, 'corrupt.safetensors');
        writeFileSync(corrupt, Buffer.from('this is not a safetensors file at all'));
        const input = (await h.page.$('input#load'))!;
        await input.uploadFile(corrupt);
        let s = await h.until('the corrupt file to be refused', "s.notices.some((n) => n.key === 'checkpoint' && n.kind === 'error')", 20_000);
        expect(s.error && /safetensors|header|bytes/i.test(s.error), `refusal reason: ${s.error}`);
        expect((await h.page.evaluate(() => window.playground.weightsChecksum())) === before, 'the weights changed after a refused file');
        await input.uploadFile(join(downloads, file));
        s = await h.until('the saved checkpoint to load', "s.notices.some((n) => n.key === 'checkpoint' && n.kind === 'info')", 20_000);
        expect((await h.page.evaluate(() => window.playground.weightsChecksum())) === before, 'loading the model its own weights changed them');
        // Group norm has no running statistics: the batch-norm file has keys it does not know.
        await h.open(toQuery({ ...TINY, norm: 'group' }));
        await h.ready();
        const groupBefore = await h.page.evaluate(() => window.playground.weightsChecksum());
        await (await h.page.$('input#load'))!.uploadFile(join(downloads, file));
        s = await h.until('the other architecture to be refused', "s.notices.some((n) => n.key === 'checkpoint' && n.kind === 'error')", 20_000);
        expect(s.error && /unexpected|missing/i.test(s.error) && /running_mean/.test(s.error), `refusal reason: ${s.error}`);
        expect(/saved from/.test(s.error), `the refusal does not say what the file was saved from: ${s.error}`);
        expect((await h.page.evaluate(() => window.playground.weightsChecksum())) === groupBefore, 'the weights changed after a refused checkpoint');
      },
      SHORT_RUN,
    ],
    [
      'switching the norm from batch to group builds a new model and retrains it',
      async () => {
        await h.open(tinyQuery);
        await h.ready();
        await h.click('#start');
        await h.until('training', 's.step >= 3');
        await h.click('#norm input[value="group"] + span');
        // The new model trains from step 0: its first loss reading is of an early step.
        let s = await h.until('the group-norm model to train', "s.query.includes('norm=group') && s.run === 'running' && s.losses.length >= 6 && s.losses[0][0] <= 5 && s.step >= 100");
        await h.click('#pause');
        s = await h.until('the pause', "s.run === 'paused' && s.tests.length > 0");
        const losses = s.losses.map(([, l]) => l);
        expect(losses.every(Number.isFinite) && mean(losses.slice(-3)) < mean(losses.slice(0, 2)) - 0.1, `group-norm losses did not fall by 0.1: ${losses.map((l) => l.toFixed(2)).join(' ')}`);
        const arch = await h.page.evaluate(() => document.getElementById('architecture')!.textContent);
        expect(/group norm/.test(arch ?? ''), `architecture line: ${arch}`);
        expect(s.charts['chart-batch-mean'].points[1] === 0, 'group norm shows running statistics it does not have');
        const drawn = await h.until('the charts to be drawn', "s.charts['chart-shift'].points.some((p) => p > 0)", 10_000);
        expectChartsFilled(drawn, { running: false });
        expectCnnLayerSeries(drawn, 'group');
        await expectNormCaptions(h.page, 'group');
        await h.screenshot('playground-group.png');
      },
    ],
    [
      'the pre-activation ResNet and the U-Net (segmentation masks) train',
      async () => {
        const resnet = { ...TINY, model: 'resnet', depth: 8, width: 4, groups: 2, batch: 8, evalEvery: 10, testSamples: 16 } as const;
        const unet = { ...TINY, dataset: 'shapes', model: 'unet', depth: 2, width: 4, groups: 2, batch: 8, evalEvery: 10, testSamples: 16, lr: 0.05 } as const;
        for (const [name, config] of [['resnet', resnet], ['unet', unet]] as const) {
          await h.open(toQuery(config));
          await h.ready();
          const s = await h.trainTo(12);
          const losses = s.losses.map(([, l]) => l);
          expect(losses.length >= 2 && losses.every(Number.isFinite), `${name}: losses ${losses}`);
          expect(s.tests.length > 0 && Number.isFinite(s.tests.at(-1)!.accuracy), `${name}: tests ${JSON.stringify(s.tests)}`);
          if (name === 'unet') {
            expect(s.tests.at(-1)!.miou !== null, 'unet: no mean IoU');
            const masks = await h.page.evaluate(() => document.querySelectorAll('#predictions canvas').length);
            expect(masks === 32, `unet: ${masks} mask canvases, want 16 predicted + 16 true`);
            await h.screenshot('playground-unet.png');
          }
        }
      },
    ],
    [
      'layer norm, instance norm, batch renorm and no norm each train and fill their charts',
      async () => {
        for (const norm of ['layer', 'instance', 'batchrenorm', 'none'] as const) {
          await h.open(toQuery({ ...TINY, norm, batch: 16, statsEvery: 2, evalEvery: 10, testSamples: 50 }));
          await h.ready();
          expect((await visibleText(h.page, '#groups-label')) === '', `${norm}: the groups menu is shown`);
          const trained = await h.trainTo(24);
          const losses = trained.losses.map(([, l]) => l);
          expect(losses.length >= 4 && losses.every(Number.isFinite), `${norm}: losses ${losses}`);
          // The histogram counts from the read after the one that found its range.
          const s = await h.until(`${norm}: the histogram`, "s.charts['chart-hist'] && s.charts['chart-hist'].points[0] > 0", 20_000);
          expectChartsFilled(s, { running: norm === 'batchrenorm', norms: norm !== 'none' });
          expectCnnLayerSeries(s, norm);
          await expectNormCaptions(h.page, norm);
          const grads = s.charts['chart-grad'].series;
          expect(grads.every((n) => !n.startsWith('bn')), `${norm}: the norm layers' γ is drawn as a convolution weight: ${grads}`);
          if (norm === 'batchrenorm') expect(s.charts['chart-affine'].series.includes('bn1 (BRN) γ'), `batchrenorm: scale/shift series ${s.charts['chart-affine'].series}`);
          if (norm === 'none') {
            expect(/No norm layers/.test(await visibleText(h.page, '#chart-affine .chart-empty')), 'none: the empty scale/shift chart does not say why');
            expect(/ReLU/.test(await visibleText(h.page, '#focus-caption')), `none: focus caption ${await visibleText(h.page, '#focus-caption')}`);
          }
          console.log(`        ${norm}: loss ${losses[0].toFixed(2)} -> ${losses.at(-1)!.toFixed(2)}, test accuracy ${s.tests.at(-1)!.accuracy.toFixed(2)}`);
          if (norm === 'none') {
            // Near ln 10 after step 10 the loss card says why; the readings decide whether it applies.
            const last = trained.losses.at(-1)!;
            const onPlateau = last[0] >= 10 && Math.abs(last[1] - Math.log(10)) < 0.05;
            const note = await visibleText(h.page, '#loss-note');
            console.log(`        none: last loss ${last[1].toFixed(3)} at step ${last[0]}; plateau note ${note ? 'shown' : 'hidden'}`);
            if (onPlateau) expect(/ln 10/.test(note) && /norm/.test(note), `none: the loss sits at ${last[1].toFixed(3)} and the loss card does not say why: "${note}"`);
          } else {
            expect((await visibleText(h.page, '#loss-note')) === '', `${norm}: the plateau note shows in a model with norms`);
          }
          await h.screenshot(`playground-${norm}.png`);
        }
      },
    ],
    [
      'a batch of 1 with batch norm trains and says why its statistics are degenerate; group norm needs no such notice',
      async () => {
        await h.open(toQuery({ ...TINY, batch: 1, testSamples: 16 }));
        let s = await h.ready();
        const notice = s.notices.find((n) => n.key === 'batch-of-one');
        expect(notice && notice.kind === 'warn' && /single image/.test(notice.text), `notices: ${JSON.stringify(s.notices)}`);
        expect((await visibleText(h.page, '.notice[data-key="batch-of-one"]')) !== '', 'the batch-of-one notice is not visible');
        for (const step of [1, 2]) {
          await h.click('#step');
          s = await h.until(`step ${step} of a batch of 1`, `s.step === ${step} && s.run === 'paused'`);
        }
        expect(s.phase === 'ready' && s.error === null && Number.isFinite(s.losses.at(-1)?.[1]), `after two steps: phase ${s.phase}, error ${s.error}, losses ${JSON.stringify(s.losses)}`);
        await h.screenshot('playground-batch-of-one.png');
        await h.click('#norm input[value="group"] + span');
        s = await h.until('the group-norm model', "s.query.includes('norm=group') && s.phase === 'ready' && s.run === 'paused' && s.predictions.count > 0 && s.step === 0");
        expect(!s.notices.some((n) => n.key === 'batch-of-one'), `group norm with a batch of 1 still has the notice: ${JSON.stringify(s.notices)}`);
        expect(/Groups/.test(await visibleText(h.page, '#groups-label')), 'group norm does not show its groups menu');
      },
    ],
    [
      'optimizer, learning rate, weight decay and batch size go to the URL and a copied URL opens them again',
      async () => {
        await h.open(toQuery({ ...TINY, testSamples: 16 }));
        await h.ready();
        await h.page.select('#optimizer', 'adam');
        await h.until('Adam in the URL', "s.query.includes('opt=adam')");
        const lr = await h.page.$eval('#lr', (e) => (e as HTMLInputElement).value);
        expect(lr === '0.002', `choosing Adam set the learning rate to ${lr}, expected its default 0.002`);
        await setField(h.page, '#optimizer', 'adamw');
        await setField(h.page, '#lr', '0.003');
        await setField(h.page, '#wd', '0.01');
        await setField(h.page, '#batch', '64');
        const s = await h.until('the settings in the URL', "s.query.includes('opt=adamw') && s.query.includes('lr=0.003') && s.query.includes('wd=0.01') && s.query.includes('batch=64')");
        const copied = await h.page.evaluate(() => location.search.slice(1));
        expect(copied === s.query, `location.search ${copied} is not the page's configuration ${s.query}`);
        await h.open(copied);
        let again = await h.ready();
        expect(again.query === copied, `the copied URL opened as ${again.query}`);
        const shown = await h.page.evaluate(() => ['optimizer', 'lr', 'wd', 'batch'].map((id) => (document.getElementById(id) as HTMLInputElement).value).join(' '));
        expect(shown === 'adamw 0.003 0.01 64', `the controls show ${shown}`);
        // The same architecture as the last run: its weights (and step count) were restored.
        await h.click('#step');
        again = await h.until('an AdamW step', `s.step === ${again.step + 1} && s.run === 'paused'`);
        expect(Number.isFinite(again.losses.at(-1)?.[1]), `loss after an AdamW step: ${JSON.stringify(again.losses)}`);
      },
    ],
    [
      'a malformed URL falls back to defaults with a visible notice',
      async () => {
        await h.open('norm=bogus&batch=9999&lr=-1&model=unet&dataset=mnist&wat=1');
        const s = await h.ready();
        const notice = s.notices.find((n) => n.key === 'url');
        expect(notice && notice.kind === 'warn', `notices: ${JSON.stringify(s.notices)}`);
        for (const what of ['norm="bogus"', 'batch="9999"', 'lr="-1"', 'unknown setting "wat"', 'U-Net cannot train']) expect(notice.text.includes(what), `the notice does not mention ${what}: ${notice.text}`);
        const q = new URLSearchParams(s.query);
        expect(q.get('norm') === DEFAULT_CONFIG.norm && q.get('batch') === String(DEFAULT_CONFIG.batch) && q.get('model') === 'cnn', `fell back to ${s.query}`);
        const visible = await h.page.evaluate(() => {
          const e = document.querySelector<HTMLElement>('.notice[data-key="url"]');
          return !!e && e.offsetHeight > 0;
        });
        expect(visible, 'the notice is not visible');
      },
    ],
    [
      'GPU memory is flat over 200 steps',
      async () => {
        await h.open(toQuery({ ...TINY, batch: 4, statsEvery: 10, evalEvery: 100000, testSamples: 16 }));
        await h.ready();
        // The pool warms up over the first read steps (histogram ranges, evaluation batches): measure after it.
        const first = await h.trainTo(50);
        const a = first.memory!;
        const s = await h.trainTo(first.step + 200);
        const b = s.memory!;
        console.log(`        step ${s.step}: ${b.liveBuffers} live buffers, ${b.liveBytes} bytes, ${b.createdBuffers} created (at step ${first.step}: ${a.liveBuffers}, ${a.liveBytes}, ${a.createdBuffers})`);
        // No buffer created over 200 steps: the GPU memory the engine holds is flat. Live counts are
        // sampled while the loop runs, so a few small tensors of reads still in flight may differ.
        expect(b.createdBuffers === a.createdBuffers, `the pool created ${b.createdBuffers - a.createdBuffers} buffers over 200 steps`);
        expect(Math.abs(b.liveBuffers - a.liveBuffers) <= 4 && Math.abs(b.liveBytes - a.liveBytes) <= 1024, `live memory moved: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`);
      },
    ],
    [
      'a lost device shows a message, and training resumes from the last saved state',
      async () => {
        // Checkpoints every 10 steps: the device is lost a few steps past one, while training runs.
        await h.open(toQuery({ ...TINY, evalEvery: 10, testSamples: 16 }));
        const opened = await h.ready();
        await h.click('#start');
        const running = await h.until('a checkpoint taken while training, then a few more steps', `s.run === 'running' && s.savedStep !== null && s.savedStep > ${opened.step} && s.step >= s.savedStep + 3`);
        const errorsBefore = h.consoleErrors.length;
        await h.page.evaluate(() => window.playground.loseDevice());
        let s = await h.until('the device-loss notice, and the run to stop', "s.phase === 'lost' && s.notices.some((n) => n.key === 'lost') && s.run === 'lost'", 30_000);
        const notice = s.notices.find((n) => n.key === 'lost')!;
        const savedStep = s.savedStep!;
        const savedWeights = await h.page.evaluate(() => window.playground.savedChecksum());
        console.log(`        lost at step ${s.step} (training had reached ${running.step} when the test destroyed the device); last saved at step ${savedStep}`);
        expect(/^The GPU device was lost \(destroyed: /.test(notice.text), `notice: ${notice.text}`);
        expect(notice.text.includes(`The last saved state is from step ${savedStep}.`), `the notice does not name the last saved step ${savedStep}: ${notice.text}`);
        expect(savedStep <= s.step, `saved at step ${savedStep}, after the step ${s.step} reached`);
        // The step that failed is part of the loss: no notice of its own, and nothing else is shown as an error.
        const others = s.notices.filter((n) => n.key !== 'lost' && n.kind === 'error');
        expect(others.length === 0, `other error notices: ${JSON.stringify(others)}`);
        expect((await visibleText(h.page, '#resume')) !== '', 'no visible resume button');
        const buttons = await h.page.evaluate(() => ['start', 'step', 'pause', 'reset', 'save'].filter((id) => !(document.getElementById(id) as HTMLButtonElement).disabled));
        expect(buttons.length === 0, `buttons still enabled on a lost device: ${buttons.join(', ')}`);
        // The loop has stopped: the step counter stays where it is.
        await new Promise((r) => setTimeout(r, 1000));
        const later = await h.state();
        expect(later.step === s.step && later.run === 'lost', `training went on after the loss: step ${s.step} -> ${later.step}, run ${later.run}`);
        await h.screenshot('playground-device-lost.png');
        await h.click('#resume');
        s = await h.until('the resumed model', `s.phase === 'ready' && s.run === 'paused' && s.restoredStep === ${savedStep} && s.predictions.count > 0`);
        expect(s.step === savedStep, `resumed at step ${s.step}, the last saved step is ${savedStep}`);
        expect(!s.notices.some((n) => n.key === 'lost'), 'the loss notice stays after resuming');
        const resumedWeights = await h.page.evaluate(() => window.playground.weightsChecksum());
        expect(resumedWeights === savedWeights, `the resumed weights (${resumedWeights}) are not those saved at step ${savedStep} (${savedWeights})`);
        await h.click('#start');
        s = await h.until('training after resuming', `s.step >= ${savedStep + 4} && s.losses.some(([step]) => step > ${savedStep})`);
        await h.click('#pause');
        s = await h.until('the pause', "s.run === 'paused'");
        const after = s.losses.filter(([step]) => step > savedStep);
        expect(s.losses.every(([step]) => step > savedStep) && after.every(([, l]) => Number.isFinite(l)), `losses after resuming: ${JSON.stringify(s.losses)}`);
        expect(s.phase === 'ready' && s.error === null, `after resuming: phase ${s.phase}, error ${s.error}`);
        // Chromium logs the destroyed device; nothing else may appear, and nothing may be thrown.
        const errors = h.consoleErrors.slice(errorsBefore).filter((e) => !(e.startsWith('console.error:') && LOSS_CONSOLE_ERROR.test(e)));
        expect(errors.length === 0, `errors since the loss:\n${errors.join('\n')}`);
      },
      SHORT_RUN,
    ],
    [
      'without WebGPU the page says so and trains the small CNN on the CPU backend',
      async () => {
        await h.open(toQuery({ ...TINY, batch: 4, testSamples: 16 }), { noWebGpu: true });
        let s = await h.until('the no-WebGPU notice', "s.phase === 'no-webgpu' && s.notices.length > 0", 30_000);
        const notice = s.notices.find((n) => n.key === 'no-webgpu');
        expect(notice && /no WebGPU/.test(notice.text), `notices: ${JSON.stringify(s.notices)}`);
        expect((await visibleText(h.page, '#use-cpu')) !== '', 'no visible button offering the CPU backend');
        await h.screenshot('playground-no-webgpu.png');
        await h.click('#use-cpu');
        await h.ready();
        await h.click('#step');
        s = await h.until('a CPU step', "s.step === 1 && s.run === 'paused'");
        expect(s.backend === 'cpu' && Number.isFinite(s.losses.at(-1)?.[1]), `backend ${s.backend}, losses ${JSON.stringify(s.losses)}`);
        await h.screenshot('playground-cpu.png');
      },
      SHORT_RUN,
    ],
    [
      'the lab runs an experiment in one click: its charts, tables and verdict fill as it measures',
      async () => {
        await clickExperiment(h, tinyQuery, 'running-averages');
        const s = await h.until('the experiment to finish', "s.experiment !== null && s.experiment.name === 'running-averages' && !s.experiment.running");
        const e = s.experiment!;
        expect(e.done && e.error === null, `the experiment ended early: ${e.error}`);
        expect(e.holds === true && /correction removes it/.test(e.verdict), `verdict (holds ${e.holds}): ${e.verdict}`);
        // Quick mode: 6 table rows, 30 steps of 4 + 3 series.
        expect(e.rows === 6 && e.points === 210, `${e.rows} rows and ${e.points} points measured`);
        const shown = await h.page.evaluate(() => ({
          canvases: document.querySelectorAll('#lab-charts canvas').length,
          rows: document.querySelectorAll('#lab-tables tbody tr').length,
          verdict: document.getElementById('lab-verdict')?.textContent ?? '',
          start: (document.getElementById('start') as HTMLButtonElement).disabled,
        }));
        expect(shown.canvases === 2, `${shown.canvases} charts drawn`);
        // The legends name the series, without a "Value: --" column for a cursor that is not there.
        const legend = await h.page.evaluate(() => [...document.querySelectorAll('#lab-charts .u-legend')].map((e) => e.textContent ?? '').join(' | '));
        expect(legend.includes('EMA') && !/Value|--/.test(legend), `lab legends: ${legend}`);
        expect(shown.rows === 6, `${shown.rows} table rows shown`);
        expect(shown.verdict === e.verdict, `the page shows the verdict "${shown.verdict}"`);
        expect(!shown.start, 'training stays disabled after the experiment');
        await h.screenshot('playground-lab.png');
      },
      SHORT_RUN,
    ],
    [
      'a training experiment runs in the lab, Stop ends it between steps, and training is possible again',
      async () => {
        // Run alone or after a reload, the lab is closed again.
        await openLab(h.page);
        await h.click('.lab-preset[data-experiment="weight-decay"]');
        let s = await h.until('the experiment to train', "s.experiment !== null && s.experiment.name === 'weight-decay' && s.experiment.steps > 0");
        const disabled = await h.page.evaluate(() => (document.getElementById('start') as HTMLButtonElement).disabled);
        expect(disabled, 'training could start while the experiment ran');
        // Said from the start: what it shows and how many steps; the progress counts them.
        const planned = s.experiment!.planned ?? 0;
        const plan = await visibleText(h.page, '#lab-plan');
        const progress = await visibleText(h.page, '#lab-progress');
        expect(planned > 0 && plan.includes(`${planned} optimizer steps`) && /It shows: /.test(plan), `the plan line says "${plan}" (planned ${planned})`);
        expect(progress.includes(`of ${planned} steps`), `the progress line says "${progress}"`);
        await h.click('#lab-stop');
        s = await h.until('the experiment to stop', "!s.experiment.running");
        const e = s.experiment!;
        expect(!e.done && /was stopped/.test(e.error ?? ''), `after Stop: done ${e.done}, error ${e.error}`);
        const shown = await h.page.evaluate(() => ({ verdict: document.getElementById('lab-verdict')?.textContent ?? '', start: (document.getElementById('start') as HTMLButtonElement).disabled }));
        expect(/no verdict/.test(shown.verdict), `the page says "${shown.verdict}"`);
        expect(!shown.start, 'training stays disabled after the experiment was stopped');
      },
    ],
    [
      'batch size, the lab’s first experiment, reaches a verdict in quick mode, and says its plan first',
      async () => {
        await clickExperiment(h, tinyQuery, 'batch-size');
        const plan = await visibleText(h.page, '#lab-plan');
        expect(/trains 6 networks, \d+ optimizer steps/.test(plan), `the plan line says "${plan}"`);
        const s = await h.until('the batch-size experiment to finish', "s.experiment !== null && s.experiment.name === 'batch-size' && !s.experiment.running");
        const e = s.experiment!;
        console.log(`        ${e.seconds.toFixed(0)} s, ${e.steps} of ${e.planned} steps; holds ${e.holds}: ${e.verdict}`);
        expect(e.done && e.error === null && e.holds !== null, `batch size ended without a verdict: error ${e.error}, holds ${e.holds}`);
        expect(e.steps === e.planned, `${e.steps} steps taken, ${e.planned} announced`);
        expect(!/too small to judge/.test(e.verdict), `batch size did not conclude: ${e.verdict}`);
      },
    ],
    [
      `every file the page loaded came from under ${SUB_PATH}, and none was missing`,
      async () => {
        // Run alone, the check loads the page itself.
        if (h.requested.length === 0) {
          await h.open(tinyQuery);
          await h.ready();
        }
        // data: and blob: URLs are the page's own (an empty favicon, a checkpoint download).
        const elsewhere = h.requested.filter((u) => /^https?:/.test(u) && !u.startsWith(site.url));
        expect(elsewhere.length === 0, `requests outside ${site.url}:\n${[...new Set(elsewhere)].join('\n')}`);
        const outside = site.requests.filter((r) => !r.path.startsWith(SUB_PATH));
        expect(outside.length === 0, `the server was asked for paths outside ${SUB_PATH}: ${JSON.stringify(outside)}`);
        const missing = site.requests.filter((r) => r.status >= 400);
        expect(missing.length === 0, `requests that failed: ${JSON.stringify(missing)}`);
        const served = new Set(site.requests.map((r) => r.path.replace(/\?.*/, '').slice(SUB_PATH.length)));
        for (const file of ['', 'data/datasets.json']) expect(served.has(file), `"${SUB_PATH}${file}" was never served: ${[...served].join(' ')}`);
        expect([...served].some((f) => /^assets\/.+\.js$/.test(f)) && [...served].some((f) => /^data\/.+\.wfds$/.test(f)), `no script or dataset was served: ${[...served].join(' ')}`);
        console.log(`        ${site.requests.length} requests, ${served.size} files: ${[...served].sort().join(' ')}`);
      },
      SHORT_RUN,
    ],
    [
      'Train pressed while the model is on its way is queued, and training starts once the model is ready',
      async () => {
        // The dataset's files are held back, so the press lands while the page is still fetching.
        const held: HTTPRequest[] = [];
        let holding = true;
        await h.open(toQuery({ ...TINY, seed: 5 }), {
          beforeLoad: async (page) => {
            await page.setRequestInterception(true);
            page.on('request', (r) => {
              if (holding && /\.wfds$/.test(r.url())) held.push(r);
              else void r.continue();
            });
          },
        });
        let s = await h.until('the page to fetch the dataset', "s.progress !== null && s.progress.task === 'data'", 60_000);
        expect(s.phase === 'loading' && (await visibleText(h.page, '#progress')).includes('Fetching'), `while fetching: phase ${s.phase}, progress line "${await visibleText(h.page, '#progress')}"`);
        await h.click('#start');
        s = await h.state();
        expect(s.queuedStart && s.run === 'paused' && s.step === 0, `after Train during the fetch: queued ${s.queuedStart}, run ${s.run}, step ${s.step}`);
        holding = false;
        for (const r of held) void r.continue();
        s = await h.until('training to start by itself once the model is ready', "s.phase === 'ready' && s.run === 'running' && s.step >= 3");
        expect(!s.queuedStart && s.progress === null, `queued ${s.queuedStart}, progress ${JSON.stringify(s.progress)}`);
        await h.click('#pause');
        await h.until('the pause', "s.run === 'paused'");
      },
    ],
    [
      'Forget saved run deletes what the browser keeps: the next bare visit starts afresh',
      async () => {
        await h.open(tinyQuery);
        await h.ready();
        await h.trainTo(3);
        await h.click('#forget');
        await h.until('the run to be forgotten', "s.forgotten > 0 && s.notices.some((n) => n.key === 'forget' && n.kind === 'info')");
        await h.open('');
        const s = await h.ready();
        expect(s.restoredStep === null && s.step === 0 && s.experiment === null, `after Forget and a reload: restored ${s.restoredStep}, step ${s.step}, experiment ${JSON.stringify(s.experiment)}`);
      },
    ],
    [
      'no console errors',
      async () => {
        // Chromium logs the destroyed device of the device-loss check; nothing else may appear, and nothing may be thrown.
        const errors = h.consoleErrors.filter((e) => !(e.startsWith('console.error:') && LOSS_CONSOLE_ERROR.test(e)));
        expect(errors.length === 0, errors.join('\n'));
      },
      SHORT_RUN,
    ],
  ];
}

async function waitForFile(dir: string, suffix: string, timeout = 20_000): Promise<string> {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    const file = readdirSync(dir).find((f) => f.endsWith(suffix) && !f.startsWith('corrupt'));
    if (file) return file;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${suffix} file was downloaded to ${dir}`);
}

async function main(): Promise<number> {
  let passed = 0;
  let failed = 0;
  const record = (name: string, error?: unknown, ms?: number) => {
    const took = ms === undefined ? '' : ` (${(ms / 1000).toFixed(0)} s)`;
    if (error === undefined) {
      passed++;
      console.log(`  ok    ${name}${took}`);
    } else {
      failed++;
      console.log(`  FAIL  ${name}${took}\n        ${(error instanceof Error ? error.message : String(error)).replaceAll('\n', '\n        ')}`);
    }
  };
  let site: DeployedSite | null = null;
  let browser: Browser | null = null;
  const downloads = mkdtempSync(join(tmpdir(), 'welford-playground-'));
  const started = Date.now();
  let browserName: BrowserName = 'chromium';
  try {
    const { browser: name, rest: args } = takeBrowserOption(process.argv.slice(2));
    browserName = name;
    const short = args.includes('--short');
    const rest = args.filter((a) => a !== '--short');
    browserPath(browserName); // no such browser: say so before building anything
    site = await deployPlayground(repoRoot, join(here, '../dist/playground-site'));
    const launched = await launchBrowser(browserName, { timeout: TIMEOUT_MS, protocolTimeout: TIMEOUT_MS });
    browser = launched.browser;
    // One context for every tab: its storage (IndexedDB) carries over between them, and its
    // downloads land in a folder the checkpoint check reads (in Chromium and in Firefox alike).
    const context = await browser.createBrowserContext({ downloadBehavior: { policy: 'allow', downloadPath: downloads } });
    console.log(`playground tests on ${launched.version} (${launched.executablePath}), page ${site.url} (a static copy of playground/dist)`);
    const h = new Harness(context, site.url, browserName);
    // An argument (a regular expression) keeps only the checks whose names match it; later checks may need earlier ones.
    const only = rest[0];
    const chosen = checks(h, site, downloads).filter(([n, , inShortRun]) => (!short || inShortRun) && (!only || new RegExp(only).test(n)));
    for (const [name, run] of chosen) {
      const began = Date.now();
      try {
        await run();
        record(name, undefined, Date.now() - began);
      } catch (e) {
        record(name, e, Date.now() - began);
      }
    }
  } catch (e) {
    record(`the playground builds, is served and opens in ${browserName}`, e);
  } finally {
    await browser?.close();
    await site?.close();
    rmSync(downloads, { recursive: true, force: true });
  }
  console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s)`);
  console.log(`screenshots: ${artifacts}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

process.exitCode = await main();
