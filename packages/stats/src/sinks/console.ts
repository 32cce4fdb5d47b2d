import { pooled } from '../layer_probe.ts';
import type { LayerRecord, StatsRecord, StatsSink } from '../record.ts';

/** Options of `consoleSink`. */
export interface ConsoleSinkOptions {
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
}

/** A number in three significant digits ("nan", "inf" where not finite). */
function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e4 ? String(Number(v.toPrecision(3))) : v.toExponential(2);
}

/** "bn1 in 0.01±0.98 shift 0.02", "relu1 dead 0.47": a norm's input pooled mean±std and shift, a ReLU's dead fraction. */
function layerSummary(name: string, r: LayerRecord): string {
  const parts = [name];
  if (r.input) {
    const p = pooled(r.input);
    parts.push(`in ${fmt(p.mean)}±${fmt(p.std)}`);
  }
  if (r.covariateShift !== undefined && r.covariateShift !== null) parts.push(`shift ${fmt(r.covariateShift)}`);
  if (r.activation) parts.push(`dead ${fmt(r.activation.deadFraction)}`);
  return parts.join(' ');
}

/** The parameter with the largest value of `pick`, as "value (name)". */
function largest(record: StatsRecord, pick: (name: string) => number | null): string {
  let best: [string, number] | null = null;
  for (const name of Object.keys(record.params)) {
    const v = pick(name);
    if (v !== null && (best === null || v > best[1] || Number.isNaN(v))) best = [name, v];
  }
  return best ? `${fmt(best[1])} (${best[0]})` : '-';
}

/** One compact line per record: layers in forward order, the largest gradient norm and update ratio, non-finite layers. */
export function summaryLine(record: StatsRecord): string {
  const layers = Object.entries(record.layers)
    .sort((a, b) => a[1].order - b[1].order)
    .map(([name, r]) => layerSummary(name, r));
  const parts = [`step ${record.step}`, ...layers];
  if (Object.keys(record.params).length > 0) {
    parts.push(`|grad| max ${largest(record, (n) => record.params[n].gradNorm)}`);
    parts.push(`dw/w max ${largest(record, (n) => record.params[n].updateRatio)}`);
  }
  for (const [name, h] of Object.entries(record.histograms)) parts.push(`${name} range ${fmt(h.observedMin)}..${fmt(h.observedMax)}`);
  parts.push(`non-finite: ${record.nonFinite.length > 0 ? record.nonFinite.join(', ') : 'none'}`);
  return parts.join(' | ');
}

/** Writes a one-line summary of each record (see `summaryLine`) to the console. */
export class ConsoleSink implements StatsSink {
  private readonly log: (line: string) => void;

  constructor({ log = (line) => console.log(line) }: ConsoleSinkOptions = {}) {
    this.log = log;
  }

  write(record: StatsRecord): void {
    this.log(summaryLine(record));
  }
}

/** A sink that prints one compact line per record. */
export function consoleSink(options: ConsoleSinkOptions = {}): ConsoleSink {
  return new ConsoleSink(options);
}
