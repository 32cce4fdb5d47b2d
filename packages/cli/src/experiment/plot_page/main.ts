// The page `welford experiment` photographs: an experiment's title, claim, charts and verdict,
// drawn with the same chart views as the playground's experiments.
import 'uplot/dist/uPlot.min.css';
import type { ExperimentResult } from '@welford/experiments';
import { ChartView } from '@welford/experiments/plot';
import { FIGURE_CSS, type FigureMeta } from './figure.ts';

declare global {
  interface Window {
    /** Draws `result` into #figure; resolves once the charts are on the page. */
    drawFigure(result: ExperimentResult, meta: FigureMeta): Promise<void>;
  }
}

const CHART_WIDTH = 560;
const CHART_HEIGHT = 320;

function text(tag: string, className: string, content: string): HTMLElement {
  const el = document.createElement(tag);
  el.className = className;
  el.textContent = content;
  return el;
}

const style = document.createElement('style');
style.textContent = FIGURE_CSS;
document.head.append(style);

let views: ChartView[] = [];

window.drawFigure = async (result, meta) => {
  const figure = document.getElementById('figure')!;
  for (const v of views) v.destroy();
  views = [];
  figure.replaceChildren(text('h1', 'title', `${result.title}${result.quick ? ' (quick)' : ''}`), text('p', 'claim', `Claim: ${result.claim}`));
  const grid = document.createElement('div');
  grid.className = 'charts';
  figure.append(grid);
  for (const chart of result.charts) {
    const cell = document.createElement('div');
    grid.append(cell);
    views.push(new ChartView(cell, chart, { width: CHART_WIDTH, height: CHART_HEIGHT, still: true }));
  }
  figure.append(text('p', 'verdict', `Verdict: ${result.verdict}`), text('p', 'meta', `welford experiment ${result.name}${result.quick ? ' --quick' : ''} --seed ${result.seed} · ${meta.adapter} · ${meta.date}`));
  // Two frames: uPlot draws on the next animation frame.
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
};
