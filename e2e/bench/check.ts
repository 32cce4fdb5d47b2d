// What both benchmark drivers (Chromium and Node) check before they call a run complete.
import { ROW_IDS, type BenchReport, type Side } from './report.ts';

/** What is wrong with a report; empty when every row is there with finite figures. */
export function problems(report: BenchReport, pageErrors: string[]): string[] {
  const out = [...pageErrors];
  if (report.error) out.push(`the page failed: ${report.error}`);
  for (const f of report.tfjsFailures ?? []) out.push(`TF.js failed: ${f}`);
  const finite = (s: Side | null | undefined) => !!s && [s.ms.median, s.ms.min, s.ms.max, s.dispatches, s.buffers].every(Number.isFinite);
  for (const id of ROW_IDS) {
    const row = report.rows.find((r) => r.id === id);
    if (!row) out.push(`row '${id}' is missing`);
    else if (!finite(row.welford)) out.push(`row '${id}': welford figures missing or not finite`);
    else if (row.tfjs === null ? !row.tfjsNote : !finite(row.tfjs)) out.push(`row '${id}': TF.js figures missing or not finite`);
  }
  if (!Number.isFinite(report.copy.gbps.median)) out.push('the copy bandwidth is missing');
  return out;
}

