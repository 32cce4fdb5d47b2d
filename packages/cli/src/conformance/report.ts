// How conformance results are shown: one row per case, a closing count, and a JSON document.
import type { CaseResult, Comparison } from './runner.ts';

/** An error in a short form: 0, 1.2e-7, NaN. */
export function formatError(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  return x === 0 ? '0' : x.toExponential(1);
}

function formatComparison(c: Comparison): string {
  if (c.problem) return `${c.name} FAIL (${c.problem})`;
  const error = `${c.name} ${formatError(c.maxAbsError)}`;
  if (c.passed || !c.worst) return error;
  const { index, got, want } = c.worst;
  return `${error} FAIL (at [${index.join(', ')}]: got ${got}, want ${want})`;
}

/** Column widths that fit every id and op of a run. */
export interface RowLayout {
  readonly idWidth: number;
  readonly opWidth: number;
}

export function rowLayout(cases: readonly { id: string; op: string }[]): RowLayout {
  return {
    idWidth: Math.min(64, Math.max(2, ...cases.map((c) => c.id.length))),
    opWidth: Math.max(2, ...cases.map((c) => c.op.length)),
  };
}

/** `id  op  PASS  output 1.2e-7  grad.input 3.0e-7`, or the error that stopped the case. */
export function formatRow(r: CaseResult, layout: RowLayout = rowLayout([r])): string {
  const head = `${r.id.padEnd(layout.idWidth)}  ${r.op.padEnd(layout.opWidth)}  ${r.passed ? 'PASS' : 'FAIL'}`;
  if (r.error !== undefined) return `${head}  error: ${r.error.replace(/\s*\n\s*/g, ' ')}`;
  return `${head}  ${r.comparisons.map(formatComparison).join('  ')}`;
}

/** The closing line: `N passed, M failed`. */
export function formatSummary(results: readonly CaseResult[]): string {
  const passed = results.filter((r) => r.passed).length;
  return `${passed} passed, ${results.length - passed} failed`;
}

/** JSON cannot hold NaN: an error that is not a number is written as null. */
const finite = (x: number): number | null => (Number.isNaN(x) ? null : x);

/** The per-case results as a JSON-ready document. */
export function resultsJson(results: readonly CaseResult[], meta: { backend: string; files: readonly string[] }) {
  const passed = results.filter((r) => r.passed).length;
  return {
    version: 1,
    backend: meta.backend,
    files: meta.files,
    passed,
    failed: results.length - passed,
    cases: results.map((r) => ({
      file: r.source,
      id: r.id,
      op: r.op,
      passed: r.passed,
      ...(r.error !== undefined ? { error: r.error } : {}),
      compared: r.comparisons.map((c) => ({
        name: c.name,
        passed: c.passed,
        maxAbsError: finite(c.maxAbsError),
        ...(c.worst ? { worst: { index: c.worst.index, got: finite(c.worst.got), want: c.worst.want } } : {}),
        ...(c.problem ? { problem: c.problem } : {}),
      })),
      seconds: Number(r.seconds.toFixed(4)),
    })),
  };
}
