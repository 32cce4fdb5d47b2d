// A uPlot chart in a panel: sized to its container, redrawn only when its data changed, and
// only from `draw()` (called once per animation frame), so training never waits on drawing.
import uPlot from 'uplot';
import { formatTick } from '@welford/experiments/plot';

/** One line (or set of bars) of a chart. */
export interface SeriesSpec {
  label: string;
  color: string;
  dash?: number[];
  /** Bar fill (histograms). */
  fill?: string;
  /** Draw markers at the points (sparse series). */
  points?: boolean;
  width?: number;
}

export interface ChartSpec {
  /** y axis label. */
  y: string;
  /** x axis label (default "step"). */
  x?: string;
  series: readonly SeriesSpec[];
  /** The data uPlot draws: [x, ...one array per series]. */
  data: () => uPlot.AlignedData;
  /** Changes whenever `data()` would give something new. */
  version: () => number;
  /** Logarithmic y (values ≤ 0 are not drawn). */
  log?: boolean;
  /** Fixed y range. */
  yRange?: [number, number];
  /** x takes integer values only (steps, channel indices): ticks at integers. Default: true unless `bars`. */
  integerX?: boolean;
  /** Bars centred on x (histograms) instead of lines. */
  bars?: boolean;
  height?: number;
  /** What the chart says while it holds no finite value (why it is empty, or what it waits for). */
  empty?: () => string;
}

/** Tick spacings for integer axes: 1, 2, 5, 10, 20, 50, ... */
const INTEGER_INCRS = [1, 2, 5].flatMap((m) => [1, 10, 100, 1e3, 1e4, 1e5, 1e6].map((p) => m * p)).sort((a, b) => a - b);

const AXIS = { stroke: '#5b6477', grid: { stroke: '#eef0f4', width: 1 }, ticks: { stroke: '#d9dde5', width: 1 }, font: '11px system-ui, sans-serif', labelFont: '11px system-ui, sans-serif' };

/** The narrowest plot (px): a phone's card is about 300 px wide. */
const MIN_WIDTH = 160;

/** A chart bound to its data source. */
export class Chart {
  readonly plot: uPlot;
  private drawn = -1;
  private readonly resize: ResizeObserver;
  /** The note laid over the plot while it holds no finite value. */
  private readonly note: HTMLElement;

  constructor(
    readonly el: HTMLElement,
    private readonly spec: ChartSpec,
  ) {
    const bars = spec.bars ? uPlot.paths.bars!({ size: [0.92, Infinity], align: 0 }) : undefined;
    const opts: uPlot.Options = {
      width: Math.max(MIN_WIDTH, el.clientWidth),
      height: spec.height ?? 180,
      legend: {
        show: spec.series.length > 0,
        live: false,
        // A line per series, dashed where the series is (style.css draws the marker as a line).
        markers: { width: 2, dash: (u: uPlot, i: number) => (u.series[i].dash?.length ? 'dashed' : 'solid'), fill: () => 'transparent' },
      },
      cursor: { points: { size: 6 }, drag: { x: false, y: false } },
      scales: {
        x: { time: false },
        y: spec.log ? { distr: 3, log: 10 } : spec.yRange ? { range: spec.yRange } : {},
      },
      axes: [
        { ...AXIS, label: spec.x ?? 'step', size: 36, ...((spec.integerX ?? !spec.bars) ? { incrs: INTEGER_INCRS } : {}) },
        { ...AXIS, label: spec.y, size: 54, values: (_u: uPlot, ticks: (number | null)[]) => ticks.map(formatTick) },
      ],
      series: [
        {},
        ...spec.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? 1.5,
          dash: s.dash,
          spanGaps: true,
          // Without `points`, uPlot's own rule: markers while the points are sparse (a first reading shows).
          points: s.points === undefined ? { size: 4, fill: s.color } : { show: s.points, size: 5, fill: s.color },
          ...(bars ? { paths: bars, fill: s.fill ?? s.color, points: { show: false } } : {}),
        })),
      ],
    };
    this.plot = new uPlot(opts, spec.data(), el);
    this.note = document.createElement('p');
    this.note.className = 'chart-empty';
    el.append(this.note);
    this.drawn = spec.version();
    this.updateNote();
    // The plot follows its container's width (a narrow window, a card that grows or shrinks).
    this.resize = new ResizeObserver(() => {
      const width = Math.max(MIN_WIDTH, el.clientWidth);
      if (width !== this.plot.width) this.plot.setSize({ width, height: this.plot.height });
    });
    this.resize.observe(el);
  }

  /** Redraws when the data changed since the last draw. */
  draw(): void {
    const v = this.spec.version();
    if (v === this.drawn) return;
    this.drawn = v;
    this.plot.setData(this.spec.data());
    this.updateNote();
  }

  /** Shows or hides series `i` (0: the first of `spec.series`) with its legend entry. */
  showSeries(i: number, show: boolean): void {
    if (this.plot.series[i + 1]?.show !== show) this.plot.setSeries(i + 1, { show });
  }

  /** What the chart holds: per series, how many finite values (for checks and the page state). */
  summary(): { series: string[]; points: number[] } {
    const data = this.plot.data;
    return {
      series: this.spec.series.map((s) => s.label),
      points: this.spec.series.map((_, i) => (data[i + 1] as (number | null | undefined)[]).filter((v) => typeof v === 'number' && Number.isFinite(v)).length),
    };
  }

  private updateNote(): void {
    const empty = !this.plot.data.slice(1).some((ys) => (ys as (number | null | undefined)[]).some((v) => typeof v === 'number' && Number.isFinite(v)));
    const text = empty ? (this.spec.empty?.() ?? 'No values yet.') : '';
    if (this.note.textContent !== text) this.note.textContent = text;
    this.note.hidden = !empty;
    // An empty chart shows its note alone: no axes or grid behind it (style.css hides the plot area).
    this.el.classList.toggle('empty', empty);
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot.destroy();
    this.el.replaceChildren();
  }
}

/** Colours from shallow (blue) to deep (orange) layers, so depth reads at a glance. */
export function depthColor(i: number, n: number): string {
  const t = n <= 1 ? 0 : i / (n - 1);
  const hue = 215 - 185 * t;
  return `hsl(${hue.toFixed(0)} 70% ${(46 + 6 * t).toFixed(0)}%)`;
}
