// uPlot draws series over one shared x array; an experiment's series each have their own x
// values. This puts them on the union of the x values, with gaps where a series has no point.
import type { ResultChart } from '../types.ts';

/** [xs, ...ys per series]: the sorted union of x values, and each series' y there (null: no point). */
export function alignedData(chart: ResultChart): [number[], ...(number | null)[][]] {
  const xs = [...new Set(chart.series.flatMap((s) => s.points.map(([x]) => x)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = chart.series.map((s) => {
    const y: (number | null)[] = new Array(xs.length).fill(null);
    for (const [x, v] of s.points) y[index.get(x)!] = Number.isFinite(v) && !(chart.logY && v <= 0) ? v : null;
    return y;
  });
  return [xs, ...ys];
}
