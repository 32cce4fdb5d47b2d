import type { StatsRecord } from './record.ts';

// JSON has no NaN or infinities; records keep them, so a line writes them as the strings
// "NaN", "Infinity" and "-Infinity" and `parseJsonLine` turns them back into numbers.

const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

/** One record as one line of JSON (no trailing newline), non-finite numbers as strings. */
export function toJsonLine(record: StatsRecord): string {
  return JSON.stringify(record, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value));
}

/** A record from a line `toJsonLine` wrote. */
export function parseJsonLine(line: string): StatsRecord {
  return JSON.parse(line, (_key, value: unknown) => (typeof value === 'string' && value in NON_FINITE ? NON_FINITE[value] : value)) as StatsRecord;
}
