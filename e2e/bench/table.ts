// Formats a BenchReport: one row per figure, as a plain-text table for the terminal and as a
// markdown table for the file beside the JSON.
import type { BenchReport, Row, Side, Stat } from './report.ts';

/** Run facts that the page cannot know. */
export interface RunInfo {
  date: string;
  command: string;
  /** What ran the suite: the browser's version, or Node's version and Dawn's package. */
  host: string;
  /** The browser that ran the page (`pnpm bench`; absent in Node). */
  browser?: { name: string; version: string };
  /** How WebGPU was reached: SwiftShader, or a hardware GPU. */
  webgpu: string;
}

const HEADER = ['benchmark', 'welford ms [min–max]', 'TF.js ms [min–max]', 'TF.js/welford', 'dispatches (w / tf)', 'buffers/rep (w / tf)', 'effective GB/s (w / tf), % of copy; welford by GPU timestamps'];

function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : x.toFixed(3);
}

const count = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));
const ms = (s: Stat) => `${num(s.median)} [${num(s.min)}–${num(s.max)}]`;
const pair = (w: string, t: string | null) => `${w} / ${t ?? 'n/a'}`;
const percent = (side: Side) => (side.ofCopy === undefined ? '' : ` (${(side.ofCopy * 100).toFixed(side.ofCopy < 0.01 ? 2 : 1)} %)`);

function cells(row: Row): string[] {
  const { welford: w, tfjs: t } = row;
  const gpu = w.gpu ? `; welford GPU time ${num(w.gpu.ms * 1000)} µs: ${num(w.gpu.gbps)} GB/s (${(w.gpu.ofCopy * 100).toFixed(1)} %)` : w.gpuNote ? `; welford: ${w.gpuNote}` : '';
  const gbps = w.gbps ? pair(`${num(w.gbps.median)}${percent(w)}`, t?.gbps ? `${num(t.gbps.median)}${percent(t)}` : null) + gpu : '';
  return [
    row.name,
    ms(w.ms),
    t ? ms(t.ms) : (row.tfjsNote ?? 'n/a'),
    t ? `${(t.ms.median / w.ms.median).toFixed(2)}×` : 'n/a',
    pair(count(w.dispatches), t ? count(t.dispatches) : null),
    pair(count(w.buffers), t ? count(t.buffers) : null),
    gbps,
  ];
}

/** Lines above the table: where and how it was measured. */
function preamble(report: BenchReport, info: RunInfo): string[] {
  const a = report.adapter;
  return [
    `date: ${info.date}`,
    `command: ${info.command}`,
    info.browser ? `browser: ${info.browser.name} ${info.browser.version} (${info.webgpu})` : `host: ${info.host} (${info.webgpu})`,
    `adapter: vendor '${a.vendor}', architecture '${a.architecture}', device '${a.device}', description '${a.description}'${report.software ? ' [software]' : ''}${[a.vendor, a.architecture, a.device, a.description].every((f) => !f) ? ' (the browser reports no adapter info)' : ''}`,
    `copy bandwidth (copyBufferToBuffer ${report.copy.bytes / 2 ** 20} MiB, read + written): ${num(report.copy.gbps.median)} GB/s [${num(report.copy.gbps.min)}–${num(report.copy.gbps.max)}]`,
    `copy kernel (WGSL, vec4 loads and stores, ${report.kernelCopy.bytes / 2 ** 20} MiB): ${num(report.kernelCopy.gbps.median)} GB/s [${num(report.kernelCopy.gbps.min)}–${num(report.kernelCopy.gbps.max)}], ${(100 * report.kernelCopy.gbps.median / report.copy.gbps.median).toFixed(1)} % of the copy bandwidth: the most a compute pass moves here`,
  ];
}

function lossLines(report: BenchReport): string[] {
  return report.losses.map((l) => {
    const first = l.tfjsFirst === null ? `welford ${l.welfordFirst.toFixed(6)}` : `welford ${l.welfordFirst.toFixed(6)}, TF.js ${l.tfjsFirst.toFixed(6)}, ${l.agree ? 'agree to 1e-3' : 'DISAGREE (more than 1e-3 apart)'}`;
    const last = l.tfjsLast === null ? `welford ${l.welfordLast.toFixed(6)}` : `welford ${l.welfordLast.toFixed(6)}, TF.js ${l.tfjsLast.toFixed(6)}`;
    return `${l.model}: first-step loss ${first}; after ${l.steps} steps ${last}`;
  });
}

/** The plain-text table for stdout. */
export function textTable(report: BenchReport, info: RunInfo): string {
  const rows = [HEADER, ...report.rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [
    ...preamble(report, info),
    '',
    line(rows[0]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
    '',
    ...lossLines(report),
  ].join('\n');
}

/** The markdown file: the same table and facts, plus the notes on how TF.js differs. */
export function markdownTable(report: BenchReport, info: RunInfo): string {
  const row = (r: string[]) => `| ${r.join(' | ')} |`;
  return [
    `# Benchmarks: welford vs TensorFlow.js (WebGPU), ${info.host}`,
    '',
    ...preamble(report, info).map((l) => `- ${l}`),
    '',
    row(HEADER),
    row(HEADER.map(() => '---')),
    ...report.rows.map((r) => row(cells(r))),
    '',
    ...lossLines(report).map((l) => `- ${l}`),
    '',
    '## How the two sides differ',
    '',
    ...report.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}
