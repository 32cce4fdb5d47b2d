// The benchmark drivers' verdict on a report, in particular where TF.js fails in a browser: its
// rows say so, welford's figures stay, and the run is reported as failed with the reason.
import { describe, expect, it } from 'vitest';
import { problems } from './check.ts';
import { decodeReport, encodeReport, ROW_IDS, type BenchReport, type Row, type Side } from './report.ts';
import { textTable } from './table.ts';

const stat = (ms: number) => ({ median: ms, min: ms * 0.9, max: ms * 1.2, values: [ms * 0.9, ms, ms * 1.2] });
const side = (ms: number, dispatches: number): Side => ({ ms: stat(ms), repsPerSample: 1, dispatches, buffers: 0 });

/** A complete report: every row with both frameworks' figures (group norm: welford only, with its note). */
function completeReport(): BenchReport {
  const rows: Row[] = ROW_IDS.map((id, i) =>
    id.startsWith('modelSGroup') ? { id, name: id, welford: side(100 + i, 55), tfjs: null, tfjsNote: 'n/a: TF.js has no group norm' } : { id, name: id, welford: side(100 + i, 56), tfjs: side(1000 + i, 240) },
  );
  return {
    quick: true,
    adapter: { vendor: '', architecture: '', device: '', description: '' },
    software: true,
    userAgent: 'test',
    copy: { bytes: 2 ** 26, gbps: stat(12) },
    kernelCopy: { bytes: 2 ** 26, gbps: stat(1.5) },
    rows,
    losses: [],
    notes: [],
  };
}

/** The report as the page leaves it when TF.js throws on ResNet-8 in this browser. */
function resnetFailedReport(): BenchReport {
  const report = completeReport();
  const why = 'Pipeline creation failed: WGSL validation error';
  report.tfjsFailures = [`pre-act ResNet-8: ${why}`];
  for (const row of report.rows) {
    if (!row.id.startsWith('resnet8')) continue;
    row.tfjs = null;
    row.tfjsNote = `n/a: TF.js failed in this browser (${why})`;
  }
  return report;
}

describe('benchmark report check', () => {
  it('a complete report has no problems', () => {
    expect(problems(completeReport(), [])).toEqual([]);
  });

  it('TF.js failing on one model fails the run with its reason, and only that', () => {
    const found = problems(resnetFailedReport(), []);
    expect(found).toEqual(['TF.js failed: pre-act ResNet-8: Pipeline creation failed: WGSL validation error']);
  });

  it("the failed model's rows keep welford's figures and say why TF.js has none", () => {
    const report = resnetFailedReport();
    const table = textTable(report, { date: 'd', command: 'pnpm bench --browser firefox', host: 'firefox/153', browser: { name: 'firefox', version: '153' }, webgpu: 'SwiftShader' });
    const lines = table.split('\n').filter((l) => l.startsWith('resnet8.'));
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toContain('n/a: TF.js failed in this browser (Pipeline creation failed: WGSL validation error)');
      expect(line).toMatch(/^resnet8\.\w+\s+10\d \[/);
    }
    expect(table).toContain('(the browser reports no adapter info)');
  });

  it('a row without TF.js figures and without a note, a missing row, non-finite figures and page errors are each reported', () => {
    const report = completeReport();
    report.rows[0].tfjs = null;
    report.rows.splice(report.rows.findIndex((r) => r.id === 'batchNorm.forward'), 1);
    report.rows[1].welford.ms.median = NaN;
    report.copy.gbps.median = NaN;
    report.error = 'device lost';
    // Through the page's JSON string, as the driver reads it: NaN must survive as NaN.
    const found = problems(decodeReport(encodeReport(report)), ['uncaught: boom']);
    expect(found).toEqual([
      'uncaught: boom',
      'the page failed: device lost',
      "row 'modelS.perStep': TF.js figures missing or not finite",
      "row 'modelS.pipelined': welford figures missing or not finite",
      "row 'batchNorm.forward' is missing",
      'the copy bandwidth is missing',
    ]);
  });
});
