// A uPlot chart in a panel: sized to its container, redrawn only when its data changed, and
// only from `draw()` (called once per animation frame), so training never waits on drawing.
import uPlot from 'uplot';

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
  /** x takes integer values only (channel indices): ticks at integers. */
  integerX?: boolean;
  /** Bars centred on x (histograms) instead of lines. */
  bars?: boolean;
  height?: number;
}

const AXIS = { stroke: '#5b6477', grid: { stroke: '#eef0f4', width: 1 }, ticks: { stroke: '#d9dde5', width: 1 }, font: '11px system-ui, sans-serif', labelFont: '11px system-ui, sans-serif' };

/** A chart bound to its data source. */
export class Chart {
  readonly plot: uPlot;
  private drawn = -1;
  private readonly resize: ResizeObserver;

  constructor(
    readonly el: HTMLElement,
    private readonly spec: ChartSpec,
  ) {
    const bars = spec.bars ? uPlot.paths.bars!({ size: [0.92, Infinity], align: 0 }) : undefined;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: spec.height ?? 180,
      legend: { show: spec.series.length > 0, live: false },
      cursor: { points: { size: 6 }, drag: { x: false, y: false } },
      scales: {
        x: { time: false },
        y: spec.log ? { distr: 3, log: 10 } : spec.yRange ? { range: spec.yRange } : {},
      },
      axes: [
        { ...AXIS, label: spec.x ?? 'step', size: 36, ...(spec.integerX ? { incrs: [1, 2, 4, 8, 16, 32, 64, 128] } : {}) },
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
          points: { show: s.points ?? false, size: 5, fill: s.color },
          ...(bars ? { paths: bars, fill: s.fill ?? s.color, points: { show: false } } : {}),
        })),
      ],
    };
    this.plot = new uPlot(opts, spec.data(), el);
    this.drawn = spec.version();
    this.resize = new ResizeObserver(() => {
      const width = Math.max(200, el.clientWidth);
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
  }

  /** What the chart holds: per series, how many finite values (for checks and the page state). */
  summary(): { series: string[]; points: number[] } {
    const data = this.plot.data;
    return {
      series: this.spec.series.map((s) => s.label),
      points: this.spec.series.map((_, i) => (data[i + 1] as (number | null | undefined)[]).filter((v) => typeof v === 'number' && Number.isFinite(v)).length),
    };
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot.destroy();
    this.el.replaceChildren();
  }
}

/** Short tick labels: 0.001 → 1e-3, 12000 → 12k. */
export function formatTick(v: number | null): string {
  // uPlot leaves out ticks it does not label (log scales) as null.
  if (v === null) return '';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4) return `${+(v / 1000).toPrecision(3)}k`;
  if (a < 1e-2) return v.toExponential(0);
  return `${+v.toPrecision(3)}`;
}

/** Colours from shallow (blue) to deep (orange) layers, so depth reads at a glance. */
export function depthColor(i: number, n: number): string {
  const t = n <= 1 ? 0 : i / (n - 1);
  const hue = 215 - 185 * t;
  return `hsl(${hue.toFixed(0)} 70% ${(46 + 6 * t).toFixed(0)}%)`;
}
