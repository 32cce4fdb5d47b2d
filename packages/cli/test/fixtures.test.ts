// Every committed PyTorch case file (scripts/fixtures/conformance.py) through the runner's
// library API, case by case, on the CPU reference and on WebGPU.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend, WebGpuBackend, acquireDevice, type Backend } from '@welford/core';
import { readCaseFile } from '../src/conformance/case_file.ts';
import { formatRow, rowLayout } from '../src/conformance/report.ts';
import { runCase } from '../src/conformance/runner.ts';

const dir = fileURLToPath(new URL('../fixtures/conformance/', import.meta.url));
const names = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

const cpu = new CpuBackend();
let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = new WebGpuBackend(await acquireDevice());
});

it('the committed case files cover every op of CONFORMANCE.md', () => {
  const ops = new Set(names.flatMap((n) => readCaseFile(dir + n, n).cases.map((c) => c.op)));
  expect([...ops].sort()).toEqual(
    ['avg_pool2d', 'batch_norm', 'batch_renorm', 'conv2d', 'cross_entropy', 'group_norm', 'instance_norm', 'layer_norm', 'linear', 'max_pool2d', 'relu'].sort(),
  );
});

for (const name of names) {
  const file = readCaseFile(dir + name, name);
  const layout = rowLayout(file.cases);
  describe(name, () => {
    for (const [label, backend] of [['cpu', () => cpu], ['webgpu', () => gpu]] as [string, () => Backend][]) {
      for (const c of file.cases) {
        it(`${c.id} (${label})`, async () => {
          const result = await runCase(c, backend(), name);
          // The row says which tensor missed and where.
          expect(result.passed, formatRow(result, layout)).toBe(true);
        });
      }
    }
  });
}
