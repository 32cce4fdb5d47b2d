// What the conformance page and the Node side say to each other, each way as one JSON string
// (WebDriver BiDi, Firefox's protocol, hands an object met twice as a reference). Node sends a
// validated case file; the page answers with its results. Numbers cross exactly: JSON writes a
// finite double in its shortest round-trip form, and the fields that may be NaN or ±Infinity (an
// error, a value welford computed) travel as the strings "NaN", "Infinity", "-Infinity", decoded
// by field, never by value, so an id or a message that reads "NaN" stays a string. Browser-safe.
import type { CaseFile } from '../case_file.ts';
import type { CaseResult, Comparison } from '../runner.ts';

/** What the page says about itself once it has its WebGPU backend. */
export interface PageInfo {
  /** The backend's description, as the Node run prints it ("webgpu: ..."). */
  backend: string;
  /** The browser, from its user agent ("HeadlessChrome/...", "Firefox/..."). */
  userAgent: string;
}

/** The page's answer to `welfordConformanceStart()`. */
export type StartResponse = { ok: true; info: PageInfo } | { ok: false; message: string };

/** The page's answer to `welfordConformance(file, options)`. */
export type RunResponse = { ok: true; results: CaseResult[] } | { ok: false; message: string; stack?: string };

/** Options of a run on the page (none yet: the page runs every case of the file in order). */
export type PageRunOptions = Record<string, never>;

type WireNumber = number | 'NaN' | 'Infinity' | '-Infinity';

/** A comparison and a result as they travel: their possibly non-finite numbers as WireNumbers. */
type WireComparison = Omit<Comparison, 'maxAbsError' | 'worst'> & { maxAbsError: WireNumber; worst?: { index: readonly number[]; got: WireNumber; want: WireNumber } };
type WireResult = Omit<CaseResult, 'comparisons' | 'seconds'> & { comparisons: WireComparison[]; seconds: WireNumber };

const toWire = (x: number): WireNumber => (Number.isFinite(x) ? x : (String(x) as WireNumber));
const fromWire = (x: WireNumber): number => (typeof x === 'number' ? x : Number(x));

function comparisonToWire({ maxAbsError, worst, ...rest }: Comparison): WireComparison {
  return { ...rest, maxAbsError: toWire(maxAbsError), ...(worst ? { worst: { index: worst.index, got: toWire(worst.got), want: toWire(worst.want) } } : {}) };
}

function comparisonFromWire({ maxAbsError, worst, ...rest }: WireComparison): Comparison {
  return { ...rest, maxAbsError: fromWire(maxAbsError), ...(worst ? { worst: { index: worst.index, got: fromWire(worst.got), want: fromWire(worst.want) } } : {}) };
}

/** The case file as the string `welfordConformance` takes (already validated: finite numbers only). */
export function encodeCaseFile(file: CaseFile): string {
  return JSON.stringify(file);
}

export function decodeCaseFile(text: string): CaseFile {
  return JSON.parse(text) as CaseFile;
}

/** The page's answer to a run as the string `welfordConformance` resolves with. */
export function encodeRunResponse(response: RunResponse): string {
  if (!response.ok) return JSON.stringify(response);
  return JSON.stringify({ ok: true, results: response.results.map((r): WireResult => ({ ...r, seconds: toWire(r.seconds), comparisons: r.comparisons.map(comparisonToWire) })) });
}

export function decodeRunResponse(text: string): RunResponse {
  const response = JSON.parse(text) as { ok: true; results: WireResult[] } | Extract<RunResponse, { ok: false }>;
  if (!response.ok) return response;
  return { ok: true, results: response.results.map((r) => ({ ...r, seconds: fromWire(r.seconds), comparisons: r.comparisons.map(comparisonFromWire) })) };
}
