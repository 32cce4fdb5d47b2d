import { acquireDevice, setBackend, WebGpuBackend } from '@welford/core';
import { loadMnistDigits } from '@welford/data/node';
import type { DigitsData, ExperimentContext, ExperimentResult } from '../src/index.ts';
import { expect } from 'vitest';

let gpu: WebGpuBackend | null = null;

/** The WebGPU backend on the real adapter (SwiftShader where there is no GPU), made the default. */
export async function useGpu(): Promise<WebGpuBackend> {
  gpu ??= new WebGpuBackend(await acquireDevice());
  setBackend(gpu);
  return gpu;
}

let digits: DigitsData | null = null;

/** A context with the mnist package's digits, recording every live update. */
export function testContext(): ExperimentContext & { updates: ExperimentResult[] } {
  const updates: ExperimentResult[] = [];
  return {
    updates,
    digits: async () => (digits ??= { train: loadMnistDigits({ split: 'train' }), test: loadMnistDigits({ split: 'test' }) }),
    onUpdate: (r) => updates.push(structuredClone(r)),
  };
}

/** What every finished result must satisfy: tables with finite numbers, charts with points, a verdict. */
export function expectWellFormed(result: ExperimentResult): void {
  expect(result.done).toBe(true);
  expect(result.holds).not.toBeNull();
  expect(result.verdict.length).toBeGreaterThan(20);
  expect(result.tables.length).toBeGreaterThan(0);
  for (const table of result.tables) {
    expect(table.rows.length).toBeGreaterThan(0);
    for (const row of table.rows) {
      expect(row).toHaveLength(table.columns.length);
      for (const cell of row) if (typeof cell === 'number') expect(Number.isFinite(cell), `${table.title}: ${row.join(', ')}`).toBe(true);
    }
  }
  expect(result.charts.length).toBeGreaterThan(0);
  for (const chart of result.charts) {
    expect(chart.series.length).toBeGreaterThan(0);
    for (const s of chart.series) expect(s.points.length, `${chart.title}: ${s.label}`).toBeGreaterThan(0);
  }
}
