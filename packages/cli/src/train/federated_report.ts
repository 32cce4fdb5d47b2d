// What `welford federated` prints and writes: a table with one row per client (its shift and
// its test accuracy under each averaging rule) and a mean row, and the same as JSON.
import type { ClientShift } from './federated_data.ts';
import type { TestMetrics } from './step_log.ts';

export type StrategyName = 'fedavg' | 'fedbn';

export const STRATEGY_LABELS: Record<StrategyName, string> = { fedavg: 'FedAvg', fedbn: 'FedBN' };

/** One client's row: its shift and its test metrics under each rule that ran. */
export interface ClientRow {
  client: number;
  shift: ClientShift;
  /** "brightness -0.30, contrast 0.79" or "classes 2, 3". */
  shiftLabel: string;
  trainSamples: number;
  testSamples: number;
  fedavg?: TestMetrics;
  fedbn?: TestMetrics;
}

/** The mean over clients of each rule's test accuracy (and loss). */
export type MeanRow = Partial<Record<StrategyName, { accuracy: number; loss: number }>>;

function fixed(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : String(v);
}

/** The unweighted mean over clients (every client's test shard has the same size). */
export function meanRow(rows: readonly ClientRow[], strategies: readonly StrategyName[]): MeanRow {
  const out: MeanRow = {};
  for (const s of strategies) {
    const tests = rows.map((r) => r[s]!);
    out[s] = { accuracy: tests.reduce((a, t) => a + t.accuracy, 0) / tests.length, loss: tests.reduce((a, t) => a + t.loss, 0) / tests.length };
  }
  return out;
}

/**
 * The table: "client  shift  FedAvg  FedBN" with accuracies (correct/total), then the mean.
 * Columns follow `strategies`.
 */
export function clientTable(rows: readonly ClientRow[], strategies: readonly StrategyName[]): string {
  const shiftWidth = Math.max('shift'.length, ...rows.map((r) => r.shiftLabel.length));
  const cell = (t: TestMetrics): string => `${fixed(t.accuracy, 4)} (${t.correct}/${t.total})`;
  const widths = strategies.map((s) => Math.max(STRATEGY_LABELS[s].length, ...rows.map((r) => cell(r[s]!).length)));
  const line = (client: string, shift: string, cells: string[]): string => `${client.padEnd(8)}${shift.padEnd(shiftWidth + 2)}${cells.map((c, i) => c.padEnd(widths[i] + 2)).join('')}`.trimEnd();
  const header = line('client', 'shift', strategies.map((s) => STRATEGY_LABELS[s]));
  const body = rows.map((r) => line(String(r.client), r.shiftLabel, strategies.map((s) => cell(r[s]!))));
  const mean = meanRow(rows, strategies);
  const footer = line('mean', '', strategies.map((s) => fixed(mean[s]!.accuracy, 4)));
  return [header, ...body, footer].join('\n');
}
