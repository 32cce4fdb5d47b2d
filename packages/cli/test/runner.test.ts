import { beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend, WebGpuBackend, acquireDevice, memory } from '@welford/core';
import { parseCaseFile, type ConformanceCase } from '../src/conformance/case_file.ts';
import { formatError, formatRow, formatSummary, resultsJson, rowLayout } from '../src/conformance/report.ts';
import { compareValues, runCase, runCaseFile, type CaseResult } from '../src/conformance/runner.ts';

const cpu = new CpuBackend();
let gpu: WebGpuBackend;
beforeAll(async () => {
  gpu = new WebGpuBackend(await acquireDevice());
});

type Json = Record<string, unknown>;

/** Parses cases written as plain objects (so they are validated as a file would be). */
function cases(...raw: Json[]): ConformanceCase[] {
  return [...parseCaseFile(JSON.stringify({ version: 1, cases: raw }), 'test.json').cases];
}

const linear = (change: (c: Json) => void = () => {}): Json => {
  const c: Json = {
    id: 'linear-small',
    op: 'linear',
    inputs: {
      input: { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] },
      weight: { shape: [2, 3], data: [1, 0, -1, 2, 1, 0] },
      bias: { shape: [2], data: [10, -10] },
    },
    grad_output: { shape: [2, 2], data: [1, 0, 0, 1] },
    expect: {
      output: { shape: [2, 2], data: [8, -6, 8, 3] },
      // g · W, gᵀ · x, column sums of g
      'grad.input': { shape: [2, 3], data: [1, 0, -1, 2, 1, 0] },
      'grad.weight': { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] },
      'grad.bias': { shape: [2], data: [1, 1] },
    },
    tol: { atol: 1e-6, rtol: 1e-6 },
  };
  change(c);
  return c;
};

describe('compareValues', () => {
  const want = { shape: [2, 2], data: [1, -2, 100, 0] };
  it('passes within atol + rtol·|want| and reports the largest absolute error', () => {
    const r = compareValues('output', [1.05, -2, 101, 0], [2, 2], want, { atol: 0.1, rtol: 0.01 });
    expect(r.passed).toBe(true);
    expect(r.maxAbsError).toBe(1);
  });
  it('fails beyond it, naming the element furthest outside (not merely the largest error)', () => {
    // Element [1, 1] misses by 0.2 with a bound of 0.1; [1, 0] misses by 1 but its bound is 1.1.
    const r = compareValues('output', [1, -2, 101, 0.2], [2, 2], want, { atol: 0.1, rtol: 0.01 });
    expect(r.passed).toBe(false);
    expect(r.maxAbsError).toBe(1);
    expect(r.worst).toEqual({ index: [1, 1], got: 0.2, want: 0 });
  });
  it('fails on NaN and on a different shape', () => {
    const nan = compareValues('output', [1, -2, NaN, 0], [2, 2], want, { atol: 1, rtol: 1 });
    expect(nan.passed).toBe(false);
    expect(nan.maxAbsError).toBeNaN();
    expect(nan.worst?.index).toEqual([1, 0]);
    const shape = compareValues('output', [1, -2, 100, 0], [4], want, { atol: 1, rtol: 1 });
    expect(shape.passed).toBe(false);
    expect(shape.problem).toBe('shape [4], expected [2, 2]');
  });
});

describe('runCase', () => {
  for (const [name, backend] of [['cpu', () => cpu], ['webgpu', () => gpu]] as const) {
    it(`runs forward and backward and compares every expectation (${name})`, async () => {
      const [c] = cases(linear());
      const r = await runCase(c, backend(), 'test.json');
      expect(r.error).toBeUndefined();
      expect(r.comparisons.map((x) => x.name)).toEqual(['output', 'grad.input', 'grad.weight', 'grad.bias']);
      expect(r.comparisons.every((x) => x.passed && x.maxAbsError <= 1e-6)).toBe(true);
      expect(r.passed).toBe(true);
      expect(r.source).toBe('test.json');
    });
  }

  it('fails a case whose expected value is outside the tolerance', async () => {
    const [c] = cases(linear((x) => ((x.expect as Json).output = { shape: [2, 2], data: [8, -6, 8.01, 3] })));
    const r = await runCase(c, cpu);
    expect(r.passed).toBe(false);
    const output = r.comparisons.find((x) => x.name === 'output')!;
    expect(output.passed).toBe(false);
    expect(output.maxAbsError).toBeCloseTo(0.01, 6);
    expect(output.worst).toEqual({ index: [1, 0], got: 8, want: 8.01 });
    expect(r.comparisons.filter((x) => x.name !== 'output').every((x) => x.passed)).toBe(true);
  });

  it('runs no backward without grad_output, and compares the output alone', async () => {
    const [c] = cases(linear((x) => {
      delete x.grad_output;
      x.expect = { output: (x.expect as Json).output };
    }));
    const r = await runCase(c, cpu);
    expect(r.passed).toBe(true);
    expect(r.comparisons.map((x) => x.name)).toEqual(['output']);
  });

  it('turns an op that rejects its input into a failed case naming the error', async () => {
    const [c] = cases(linear((x) => ((x.inputs as Json).weight = { shape: [2, 4], data: [1, 0, -1, 2, 1, 0, 0, 0] })));
    const r = await runCase(c, cpu);
    expect(r.passed).toBe(false);
    expect(r.comparisons).toEqual([]);
    expect(r.error).toContain('linear: input of shape [2, 3] and weight of shape [2, 4] cannot be multiplied');
  });

  it('reports an output of the wrong shape as a failed comparison', async () => {
    const [c] = cases(linear((x) => {
      delete x.grad_output;
      x.expect = { output: { shape: [4], data: [8, -6, 8, 3] } };
    }));
    const r = await runCase(c, cpu);
    expect(r.passed).toBe(false);
    expect(r.comparisons[0].problem).toBe('shape [2, 2], expected [4]');
  });

  it('fails, without running, an attribute value welford does not offer', async () => {
    const [c] = cases({
      id: 'pool-ceil',
      op: 'max_pool2d',
      inputs: { input: { shape: [1, 1, 3, 3], data: [1, 2, 3, 4, 5, 6, 7, 8, 9] } },
      attrs: { kernel_size: 2, ceil_mode: true },
      expect: { output: { shape: [1, 1, 2, 2], data: [5, 6, 8, 9] } },
      tol: { atol: 0, rtol: 0 },
    });
    const r = await runCase(c, cpu);
    expect(r.passed).toBe(false);
    expect(r.error).toBe('max_pool2d: ceil_mode=true is not supported: maxPool2d rounds the output size down');
  });

  it('maps PyTorch defaults: pool stride = kernel_size, conv2d padding "same", count_include_pad', async () => {
    const input = { shape: [1, 1, 4, 4], data: Array.from({ length: 16 }, (_, i) => i) };
    const results = await runCaseFile(
      parseCaseFile(
        JSON.stringify({
          version: 1,
          cases: [
            { id: 'max', op: 'max_pool2d', inputs: { input }, attrs: { kernel_size: 2, stride: [] }, expect: { output: { shape: [1, 1, 2, 2], data: [5, 7, 13, 15] } }, tol: { atol: 0, rtol: 0 } },
            {
              id: 'avg-pad',
              op: 'avg_pool2d',
              inputs: { input },
              attrs: { kernel_size: 2, stride: 4, padding: 1 },
              // Windows over rows and cols -1..0 and 3..4 each hold one pixel; the padding counts: x / 4.
              expect: { output: { shape: [1, 1, 2, 2], data: [0, 0.75, 3, 3.75] } },
              tol: { atol: 0, rtol: 0 },
            },
            {
              id: 'avg-exclude',
              op: 'avg_pool2d',
              inputs: { input },
              attrs: { kernel_size: 2, stride: 2, padding: 1, count_include_pad: false },
              expect: { output: { shape: [1, 1, 3, 3], data: [0, 1.5, 3, 6, 7.5, 9, 12, 13.5, 15] } },
              tol: { atol: 1e-6, rtol: 0 },
            },
            {
              id: 'conv-same',
              op: 'conv2d',
              inputs: { input: { shape: [1, 1, 2, 2], data: [1, 2, 3, 4] }, weight: { shape: [1, 1, 3, 3], data: [0, 0, 0, 0, 1, 1, 0, 0, 0] } },
              attrs: { padding: 'same' },
              // Each pixel plus its right neighbour (zero beyond the edge).
              expect: { output: { shape: [1, 1, 2, 2], data: [3, 2, 7, 4] } },
              tol: { atol: 1e-6, rtol: 0 },
            },
          ],
        }),
        'defaults.json',
      ),
      cpu,
    );
    for (const r of results) expect(r, r.id).toMatchObject({ passed: true });
  });

  it('leaves no GPU buffer behind after a file (inputs, outputs, gradients and intermediates freed)', async () => {
    const file = parseCaseFile(JSON.stringify({ version: 1, cases: [linear(), linear((x) => (x.id = 'again'))] }), 'test.json');
    await runCaseFile(file, gpu); // warm-up: pools and caches fill
    const before = memory(gpu).liveBuffers;
    const results = await runCaseFile(file, gpu);
    expect(results.every((r) => r.passed)).toBe(true);
    expect(memory(gpu).liveBuffers).toBe(before);
  });
});

describe('report', () => {
  const pass: CaseResult = {
    source: 'a.json',
    id: 'one',
    op: 'linear',
    passed: true,
    comparisons: [
      { name: 'output', passed: true, maxAbsError: 1.234e-7 },
      { name: 'grad.input', passed: true, maxAbsError: 0 },
    ],
    seconds: 0.01,
  };
  const fail: CaseResult = {
    source: 'a.json',
    id: 'two-longer',
    op: 'relu',
    passed: false,
    comparisons: [
      { name: 'output', passed: false, maxAbsError: 0.5, worst: { index: [0, 1], got: 1, want: 0.5 } },
      { name: 'grad.input', passed: false, maxAbsError: NaN, problem: 'shape [2], expected [3]' },
    ],
    seconds: 0.01,
  };
  const broken: CaseResult = { source: 'a.json', id: 'three', op: 'conv2d', passed: false, comparisons: [], error: 'conv2d is not available\nin this build', seconds: 0 };

  it('formats errors compactly', () => {
    expect([0, 1.234e-7, 2.5, NaN].map(formatError)).toEqual(['0', '1.2e-7', '2.5e+0', 'NaN']);
  });

  it('prints one aligned row per case: id, op, PASS/FAIL, the largest error per tensor', () => {
    const layout = rowLayout([pass, fail, broken]);
    expect(formatRow(pass, layout)).toBe('one         linear  PASS  output 1.2e-7  grad.input 0');
    expect(formatRow(fail, layout)).toBe('two-longer  relu    FAIL  output 5.0e-1 FAIL (at [0, 1]: got 1, want 0.5)  grad.input FAIL (shape [2], expected [3])');
    expect(formatRow(broken, layout)).toBe('three       conv2d  FAIL  error: conv2d is not available in this build');
  });

  it('closes with "N passed, M failed"', () => {
    expect(formatSummary([pass, fail, broken])).toBe('1 passed, 2 failed');
    expect(formatSummary([])).toBe('0 passed, 0 failed');
  });

  it('writes JSON without NaN', () => {
    const json = resultsJson([pass, fail, broken], { backend: 'cpu', files: ['a.json'] });
    expect(json).toMatchObject({ version: 1, backend: 'cpu', files: ['a.json'], passed: 1, failed: 2 });
    expect(json.cases[1].compared[1]).toEqual({ name: 'grad.input', passed: false, maxAbsError: null, problem: 'shape [2], expected [3]' });
    expect(json.cases[2].error).toBe('conv2d is not available\nin this build');
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});
