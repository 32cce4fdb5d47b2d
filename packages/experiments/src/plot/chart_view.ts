// An experiment's chart drawn with uPlot: measured series as solid lines with markers,
// predicted ones (formulas) dashed; the same look in the playground and in the command line's PNG.
import uPlot from 'uplot';
import type { ResultChart } from '../types.ts';
import { alignedData } from './aligned.ts';

/** Series colours, in order (distinct in print and for common colour blindness). */
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
/** Predicted (formula) curves: greys, dashed. */
const PREDICTED = ['#555b66', '#8a919e', '#b3b9c4'];

const AXIS = { stroke: '#3c4250', grid: { stroke: '#eceef2', width: 1 }, ticks: { stroke: '#d4d8e0', width: 1 }, font: '12px system-ui, sans-serif', labelFont: '12px system-ui, sans-serif' };

/** Short tick labels: 0.001 → 1e-3, 12000 → 12k (the playground's charts use them too). */
export function formatTick(v: number | null): string {
  if (v === null) return '';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4) return `${+(v / 1000).toPrecision(3)}k`;
  if (a < 1e-2) return v.toExponential(0);
  return `${+v.toPrecision(3)}`;
}

/** The series' colours: measured ones from the palette, predicted ones grey. */
function colours(chart: ResultChart): string[] {
  let measured = 0;
  let predicted = 0;
  return chart.series.map((s) => (s.predicted ? PREDICTED[predicted++ % PREDICTED.length] : PALETTE[measured++ % PALETTE.length]));
}

/** Options of a chart view. */
export interface ChartViewOptions {
  width: number;
  height: number;
  /** Animations and cursor off (static images). */
  still?: boolean;
}

/** A chart in an element; `update` redraws it with the result's new points. */
export class ChartView {
  private plot: uPlot;
  private seriesCount: number;

  constructor(
    readonly el: HTMLElement,
    chart: ResultChart,
    private readonly options: ChartViewOptions,
  ) {
    this.plot = this.create(chart);
    this.seriesCount = chart.series.length;
  }

  /** Redraws with the chart's current points (rebuilds when series were added). */
  update(chart: ResultChart): void {
    if (chart.series.length !== this.seriesCount) {
      this.plot.destroy();
      this.plot = this.create(chart);
      this.seriesCount = chart.series.length;
      return;
    }
    this.plot.setData(alignedData(chart));
  }

  setWidth(width: number): void {
    this.plot.setSize({ width, height: this.options.height });
  }

  destroy(): void {
    this.plot.destroy();
  }

  private create(chart: ResultChart): uPlot {
    const colour = colours(chart);
    const opts: uPlot.Options = {
      title: chart.title,
      width: this.options.width,
      height: this.options.height,
      // The legend names the series; a live one would show "Value: --" for every series until the cursor is over the plot.
      legend: { show: true, live: false },
      cursor: this.options.still ? { show: false } : { points: { size: 6 }, drag: { x: false, y: false } },
      scales: {
        x: chart.logX ? { time: false, distr: 3, log: 10 } : { time: false },
        y: chart.logY ? { distr: 3, log: 10 } : {},
      },
      axes: [
        { ...AXIS, label: chart.x, size: 40, values: (_u: uPlot, ticks: (number | null)[]) => ticks.map(formatTick) },
        { ...AXIS, label: chart.y, size: 60, values: (_u: uPlot, ticks: (number | null)[]) => ticks.map(formatTick) },
      ],
      series: [
        {},
        ...chart.series.map((s, i) => ({
          label: s.label,
          stroke: colour[i],
          width: s.predicted ? 1.5 : 2,
          dash: s.predicted ? [6, 4] : undefined,
          spanGaps: true,
          points: { show: !s.predicted, size: 6, fill: colour[i] },
        })),
      ],
    };
    return new uPlot(opts, alignedData(chart) as uPlot.AlignedData, this.el);
  }
}
