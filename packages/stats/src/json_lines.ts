import type { StatsRecord } from './record.ts';

// JSON has no NaN or infinities; records keep them, so a line writes them as the strings
// "NaN", "Infinity" and "-Infinity" and `parseJsonLine` turns them back into numbers.

const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

/** Any value as JSON with its non-finite numbers as those strings (`indent` as JSON.stringify's). */
export function toJsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), indent);
}

/** A value from `toJsonText`'s JSON, the strings "NaN", "Infinity", "-Infinity" numbers again. */
export function parseJsonText(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => (typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v] : v));
}

/** One record as one line of JSON (no trailing newline), non-finite numbers as strings. */
export function toJsonLine(record: StatsRecord): string {
  return toJsonText(record);
}

/** A record from a line `toJsonLine` wrote. */
export function parseJsonLine(line: string): StatsRecord {
  return parseJsonText(line) as StatsRecord;
}
