// Writing results as text: aligned tables for a terminal, Markdown tables for the docs.
import type { Cell, ExperimentResult, ResultColumn, ResultTable } from './types.ts';

/** A cell as its column writes it. */
export function formatCell(cell: Cell, column: ResultColumn): string {
  if (cell === null) return '—';
  if (typeof cell === 'string') return cell;
  if (!Number.isFinite(cell)) return String(cell);
  if (column.percent) return `${(cell * 100).toFixed(1)} %`;
  if (column.scientific) return cell.toExponential(column.digits ?? 2);
  return cell.toFixed(column.digits ?? 3);
}

/** Values as a sentence lists them: "2", "2 and 32", "1, 2, 4 and 8". */
export function listed(values: readonly (number | string)[]): string {
  return values.length < 2 ? values.join('') : `${values.slice(0, -1).join(', ')} and ${values.at(-1)}`;
}

function cellsOf(table: ResultTable): string[][] {
  return table.rows.map((row) => row.map((cell, i) => formatCell(cell, table.columns[i])));
}

/** The table as aligned text columns under a title line (numbers right-aligned). */
export function formatTable(table: ResultTable): string {
  const cells = cellsOf(table);
  const headers = table.columns.map((c) => c.label);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const numeric = table.columns.map((_, i) => table.rows.every((r) => typeof r[i] !== 'string'));
  const line = (row: string[]) => row.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [table.title, line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** The table in Markdown. */
export function markdownTable(table: ResultTable): string {
  const numeric = table.columns.map((_, i) => table.rows.every((r) => typeof r[i] !== 'string'));
  // A "|" inside a cell (‖x‖ written |x|) would end the cell.
  const row = (cells: string[]) => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [
    `**${table.title}**`,
    '',
    row(table.columns.map((c) => c.label)),
    row(numeric.map((n) => (n ? '---:' : '---'))),
    ...cellsOf(table).map(row),
  ].join('\n');
}

/** The whole result as text: claim, tables, verdict and the work behind it. */
export function formatResult(result: ExperimentResult): string {
  const { steps, samples, measurements } = result.work;
  return [
    `${result.title}${result.quick ? ' (quick)' : ''}`,
    `claim: ${result.claim}`,
    '',
    ...result.tables.flatMap((t) => [formatTable(t), '']),
    `verdict: ${result.verdict}`,
    `measured on: ${steps} optimizer steps over ${samples} training samples, ${measurements} measured passes; ${result.seconds.toFixed(1)} s, seed ${result.seed}`,
  ].join('\n');
}

/** Where and when a result was measured, for the record. */
export interface ResultRecord {
  /** The adapter (backend description). */
  adapter: string;
  /** ISO date of the run. */
  date: string;
  /** The PNG of the charts, relative to the Markdown file (omitted: no image line). */
  image?: string;
}

/** The result as a Markdown section: claim, command, adapter and date, tables, verdict, image. */
export function markdownResult(result: ExperimentResult, record: ResultRecord): string {
  const { steps, samples, measurements } = result.work;
  const command = `welford experiment ${result.name}${result.quick ? ' --quick' : ''} --seed ${result.seed}`;
  return [
    `### ${result.title}${result.quick ? ' (quick)' : ''}`,
    '',
    `Claim: ${result.claim}`,
    '',
    `\`${command}\` on ${record.adapter}, ${record.date.slice(0, 10)}: ${result.seconds.toFixed(0)} s, ${steps} optimizer steps over ${samples} training samples, ${measurements} measured passes.`,
    '',
    ...result.tables.flatMap((t) => [markdownTable(t), '']),
    `**Verdict** (${result.holds ? 'holds' : 'does not hold'}): ${result.verdict}`,
    ...(record.image ? ['', `![${result.title}](${record.image})`] : []),
    '',
  ].join('\n');
}
