// An experiment's result in the page, redrawn as it grows: its charts (the same views the command
// line's PNG uses), its tables and its verdict.
import { formatCell, type ExperimentResult, type ResultTable } from '@welford/experiments';
import { ChartView } from '@welford/experiments/plot';

const CHART_HEIGHT = 260;
const GAP = 14;

function tableElement(table: ResultTable): HTMLElement {
  const wrap = document.createElement('div');
  wrap.className = 'lab-table';
  const caption = document.createElement('p');
  caption.className = 'caption';
  caption.textContent = table.title;
  const el = document.createElement('table');
  const head = el.createTHead().insertRow();
  for (const column of table.columns) {
    const th = document.createElement('th');
    th.textContent = column.label;
    head.append(th);
  }
  const body = el.createTBody();
  for (const row of table.rows) {
    const tr = body.insertRow();
    row.forEach((cell, i) => {
      const td = tr.insertCell();
      td.textContent = formatCell(cell, table.columns[i]);
      if (typeof cell === 'number') td.className = 'num';
    });
  }
  wrap.append(caption, el);
  return wrap;
}

/** The result card's content for one run. */
export class ExperimentResultView {
  private readonly views: ChartView[] = [];
  private readonly resize: ResizeObserver;

  constructor(
    private readonly charts: HTMLElement,
    private readonly tables: HTMLElement,
    private readonly verdict: HTMLElement,
  ) {
    charts.replaceChildren();
    tables.replaceChildren();
    verdict.textContent = '';
    this.resize = new ResizeObserver(() => {
      for (const v of this.views) v.setWidth(this.chartWidth());
    });
    this.resize.observe(charts);
  }

  /** A lone chart fills the card; two or more sit side by side on a wide screen, one per row on a narrow one. */
  private chartWidth(): number {
    const width = this.charts.clientWidth;
    return Math.max(260, this.views.length >= 2 && width >= 760 ? Math.floor((width - GAP) / 2) : width);
  }

  show(result: ExperimentResult): void {
    const before = this.views.length;
    result.charts.forEach((chart, i) => {
      const view = this.views[i];
      if (view) return view.update(chart);
      const cell = document.createElement('div');
      cell.className = 'lab-chart';
      this.charts.append(cell);
      // Width once the count is known: a second chart halves the first.
      this.views.push(new ChartView(cell, chart, { width: 260, height: CHART_HEIGHT }));
    });
    if (this.views.length !== before) for (const v of this.views) v.setWidth(this.chartWidth());
    this.tables.replaceChildren(...result.tables.map(tableElement));
    this.verdict.textContent = result.done ? result.verdict : '';
    this.verdict.dataset.holds = result.done ? String(result.holds) : '';
  }

  destroy(): void {
    this.resize.disconnect();
    for (const v of this.views) v.destroy();
  }
}
