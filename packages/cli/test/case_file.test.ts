import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaseFileError, parseCaseFile, readCaseFile } from '../src/conformance/case_file.ts';
import { linear } from './small_cases.ts';

type Json = Record<string, unknown>;

/** A valid linear case (small_cases.ts's, checking grad.input); tests change one thing in it. */
function linearCase(): Json {
  return {
    ...linear('linear-small', [8, -6, 8, 3]),
    expect: {
      output: { shape: [2, 2], data: [8, -6, 8, 3] },
      'grad.input': { shape: [2, 3], data: [1, 0, -1, 2, 1, 0] },
    },
    tol: { atol: 1e-6, rtol: 1e-6 },
  };
}

const fileOf = (...cases: unknown[]): string => JSON.stringify({ version: 1, cases });

/** The message of the CaseFileError that parsing `text` throws. */
function problemOf(text: string): string {
  try {
    parseCaseFile(text, 'cases.json');
  } catch (e) {
    expect(e).toBeInstanceOf(CaseFileError);
    return (e as Error).message;
  }
  throw new Error('expected the file to be rejected');
}

/** The message for a file holding `linearCase()` changed by `change`. */
function problemWith(change: (c: Json) => void): string {
  const c = linearCase();
  change(c);
  return problemOf(fileOf(c));
}

describe('case files: what is accepted', () => {
  it('reads a valid case, with grad_output as gradOutput and attrs defaulting to {}', () => {
    const c = linearCase();
    delete c.attrs;
    const file = parseCaseFile(JSON.stringify({ version: 1, meta: { generator: 'x' }, cases: [c] }), 'cases.json');
    expect(file.source).toBe('cases.json');
    expect(file.cases).toHaveLength(1);
    const [parsed] = file.cases;
    expect(parsed.id).toBe('linear-small');
    expect(parsed.attrs).toEqual({});
    expect(parsed.gradOutput?.shape).toEqual([2, 2]);
    expect(parsed.expect['grad.input'].data).toEqual([1, 0, -1, 2, 1, 0]);
    expect(parsed.tol).toEqual({ atol: 1e-6, rtol: 1e-6 });
  });

  it('accepts a 0-d tensor (shape [], one value) and running statistics expected after the call', () => {
    const file = parseCaseFile(
      fileOf(
        {
          id: 'ce',
          op: 'cross_entropy',
          inputs: { input: { shape: [1, 2], data: [0, 1] }, target: { shape: [1], data: [1] } },
          grad_output: { shape: [], data: [1] },
          expect: { output: { shape: [], data: [0.31326169] }, 'grad.input': { shape: [1, 2], data: [0.26894142, -0.26894142] } },
          tol: { atol: 1e-6, rtol: 0 },
        },
        {
          id: 'bn',
          op: 'batch_norm',
          inputs: { input: { shape: [2, 1], data: [0, 2] }, running_mean: { shape: [1], data: [0] }, running_var: { shape: [1], data: [1] } },
          attrs: { training: true, momentum: 0.1, eps: 1e-5 },
          expect: { running_mean: { shape: [1], data: [0.1] }, running_var: { shape: [1], data: [1.1] } },
          tol: { atol: 1e-6, rtol: 0 },
        },
      ),
      'cases.json',
    );
    expect(file.cases.map((c) => c.op)).toEqual(['cross_entropy', 'batch_norm']);
  });

  it('accepts PyTorch attribute spellings: ints or pairs, stride [] or null for pools, padding "same"', () => {
    const pool = (attrs: Json): Json => ({
      id: `pool-${JSON.stringify(attrs)}`,
      op: 'max_pool2d',
      inputs: { input: { shape: [1, 1, 2, 2], data: [1, 2, 3, 4] } },
      attrs,
      expect: { output: { shape: [1, 1, 1, 1], data: [4] } },
      tol: { atol: 0, rtol: 0 },
    });
    const conv = {
      id: 'conv-same',
      op: 'conv2d',
      inputs: { input: { shape: [1, 1, 1, 1], data: [2] }, weight: { shape: [1, 1, 1, 1], data: [3] } },
      attrs: { padding: 'same', stride: [1, 1], dilation: 1, groups: 1 },
      expect: { output: { shape: [1, 1, 1, 1], data: [6] } },
      tol: { atol: 0, rtol: 0 },
    };
    const file = parseCaseFile(fileOf(pool({ kernel_size: 2 }), pool({ kernel_size: [2, 2], stride: [] }), pool({ kernel_size: 2, stride: null, padding: [0, 1] }), conv), 'cases.json');
    expect(file.cases).toHaveLength(4);
  });
});

describe('case files: malformed files are rejected with messages naming the case', () => {
  it('not JSON', () => {
    expect(problemOf('{"version": 1, "cases": [')).toMatch(/^cases\.json: not valid JSON: /);
  });

  it('wrong version, missing or empty cases, unknown top-level fields', () => {
    expect(problemOf(JSON.stringify({ version: 2, cases: [linearCase()] }))).toBe('cases.json: version must be 1 (this runner reads format v1), got 2');
    expect(problemOf(JSON.stringify({ version: 1 }))).toBe('cases.json: "cases" must be a list of cases, got undefined');
    expect(problemOf(JSON.stringify({ version: 1, cases: [] }))).toBe('cases.json: "cases" is empty');
    expect(problemOf(JSON.stringify({ version: 1, cases: [linearCase()], extra: 1 }))).toContain('unknown top-level field(s) extra');
    expect(problemOf('[1, 2]')).toBe('cases.json: expected an object {"version": 1, "cases": [...]}, got [1,2]');
  });

  it('an unknown op, naming the case and listing the known ops', () => {
    const message = problemWith((c) => (c.op = 'softplus'));
    expect(message).toBe(
      'cases.json: case 0 "linear-small": unknown op "softplus" (known ops: batch_norm, batch_renorm, group_norm, layer_norm, instance_norm, conv2d, linear, relu, max_pool2d, avg_pool2d, cross_entropy)',
    );
  });

  it('a tensor whose data does not fill its shape', () => {
    const message = problemWith((c) => ((c.inputs as Json).input = { shape: [2, 3], data: [1, 2, 3, 4, 5] }));
    expect(message).toBe('cases.json: case 0 "linear-small": inputs.input: shape [2, 3] holds 6 values, but data has 5');
  });

  it('a tensor with a bad shape, a non-number value, or an unknown field', () => {
    expect(problemWith((c) => ((c.inputs as Json).bias = { shape: [-2], data: [] }))).toContain('inputs.bias.shape must be a list of non-negative integers, got [-2]');
    expect(problemWith((c) => ((c.inputs as Json).bias = { shape: [2], data: [1, 'x'] }))).toContain('inputs.bias.data[1] is not a number: "x"');
    expect(problemWith((c) => ((c.inputs as Json).bias = { shape: [2], data: [1, 2], dtype: 'f32' }))).toContain('inputs.bias has unknown field(s) dtype');
    expect(problemWith((c) => ((c.inputs as Json).bias = [1, 2]))).toContain('inputs.bias must be a tensor {"shape": [...], "data": [...]}, got [1,2]');
  });

  it('missing or bad id, tol, inputs and expect', () => {
    expect(problemWith((c) => delete c.id)).toBe('cases.json: case 0: id must be a non-empty string, got undefined');
    expect(problemWith((c) => delete c.tol)).toBe('cases.json: case 0 "linear-small": tol is missing; give {"atol": number, "rtol": number}');
    expect(problemWith((c) => (c.tol = { atol: -1, rtol: 0 }))).toContain('tol.atol must be a non-negative number, got -1');
    expect(problemWith((c) => delete c.inputs)).toContain('case 0 "linear-small": inputs is missing');
    expect(problemWith((c) => (c.expect = {}))).toContain('expect is empty: nothing would be compared');
  });

  it('a misspelt case field, input name or attribute', () => {
    expect(problemWith((c) => ((c.grad_ouput = c.grad_output), delete c.grad_output))).toContain('unknown field(s) grad_ouput');
    expect(problemWith((c) => ((c.inputs as Json).wieght = { shape: [1], data: [1] }))).toContain(
      'linear has no input "wieght" (it takes input, weight, bias)',
    );
    expect(problemWith((c) => (c.attrs = { stride: 1 }))).toContain('linear has no attribute "stride" (it takes none)');
  });

  it('a required input or attribute missing, and attribute values of the wrong type', () => {
    expect(problemWith((c) => delete (c.inputs as Json).weight)).toContain('input "weight" is missing (linear requires input, weight)');
    const gn = { id: 'gn', op: 'group_norm', inputs: { input: { shape: [1, 2], data: [1, 2] } }, expect: { output: { shape: [1, 2], data: [0, 0] } }, tol: { atol: 0, rtol: 0 } };
    expect(problemOf(fileOf(gn))).toBe('cases.json: case 0 "gn": attrs.num_groups is missing');
    expect(problemOf(fileOf({ ...gn, attrs: { num_groups: 1.5 } }))).toBe('cases.json: case 0 "gn": attrs.num_groups: expected a positive integer, got 1.5');
    const pool = { id: 'p', op: 'avg_pool2d', inputs: { input: { shape: [1, 1, 2, 2], data: [1, 2, 3, 4] } }, expect: { output: { shape: [1, 1, 1, 1], data: [2.5] } }, tol: { atol: 0, rtol: 0 } };
    expect(problemOf(fileOf({ ...pool, attrs: { kernel_size: [2, 2, 2] } }))).toContain('attrs.kernel_size: expected an integer >= 1 or a list of two, got [2,2,2]');
    expect(problemOf(fileOf({ ...pool, attrs: { kernel_size: 2, count_include_pad: 'yes' } }))).toContain('attrs.count_include_pad: expected true or false, got "yes"');
  });

  it('gradients expected without grad_output, of an input that has none, or of no input', () => {
    expect(problemWith((c) => delete c.grad_output)).toContain('expect["grad.input"] needs grad_output (the upstream gradient that backward starts from)');
    expect(problemWith((c) => ((c.expect as Json)['grad.other'] = { shape: [1], data: [0] }))).toContain('expect["grad.other"] names no input of this case');
    const ce = {
      id: 'ce',
      op: 'cross_entropy',
      inputs: { input: { shape: [1, 2], data: [0, 1] }, target: { shape: [1], data: [1] } },
      grad_output: { shape: [], data: [1] },
      expect: { 'grad.target': { shape: [1], data: [0] } },
      tol: { atol: 0, rtol: 0 },
    };
    expect(problemOf(fileOf(ce))).toContain('expect["grad.target"]: input "target" of cross_entropy has no gradient');
  });

  it('expectations an op cannot produce, and grad_output of the wrong shape', () => {
    expect(problemWith((c) => ((c.expect as Json).running_mean = { shape: [1], data: [0] }))).toContain(
      'expect["running_mean"] is not something linear produces (expect "output", "grad.<input>")',
    );
    expect(problemWith((c) => (c.grad_output = { shape: [4], data: [1, 0, 0, 1] }))).toContain('grad_output has shape [4] but expect.output has shape [2, 2]');
  });

  it('class indices that are not indices', () => {
    const ce = (target: number[]) => ({
      id: 'ce',
      op: 'cross_entropy',
      inputs: { input: { shape: [2, 3], data: [0, 1, 2, 3, 4, 5] }, target: { shape: [2], data: target } },
      expect: { output: { shape: [], data: [1] } },
      tol: { atol: 0, rtol: 0 },
    });
    expect(problemOf(fileOf(ce([0, 1.5])))).toContain('inputs.target holds class indices, but data[1] is 1.5');
    expect(problemOf(fileOf(ce([3, 0])))).toContain('inputs.target[0] = 3 is not a class index of input [2, 3] (0 to 2)');
  });

  it('batch_norm with momentum null needs num_batches_tracked; batch_renorm needs rmax >= 1 and dmax', () => {
    const bn = {
      id: 'bn',
      op: 'batch_norm',
      inputs: { input: { shape: [2, 1], data: [0, 2] } },
      attrs: { training: true, momentum: null },
      expect: { output: { shape: [2, 1], data: [-1, 1] } },
      tol: { atol: 1e-4, rtol: 0 },
    };
    expect(problemOf(fileOf(bn))).toContain('momentum null (a cumulative average) needs num_batches_tracked');
    const brn = {
      id: 'brn',
      op: 'batch_renorm',
      inputs: {
        input: { shape: [2, 1], data: [0, 2] },
        weight: { shape: [1], data: [1] },
        bias: { shape: [1], data: [0] },
        running_mean: { shape: [1], data: [0] },
        running_var: { shape: [1], data: [1] },
      },
      attrs: { training: true, rmax: 3 },
      expect: { output: { shape: [2, 1], data: [-1, 1] } },
      tol: { atol: 1e-4, rtol: 0 },
    };
    expect(problemOf(fileOf(brn))).toBe('cases.json: case 0 "brn": attrs.dmax is missing');
    expect(problemOf(fileOf({ ...brn, attrs: { training: false, rmax: 0.5, dmax: 0 } }))).toBe('cases.json: case 0 "brn": attrs.rmax: expected a number >= 1, got 0.5');
  });

  it('duplicate ids, and every problem of the file in one message', () => {
    const a = linearCase();
    const b = linearCase();
    b.op = 'nope';
    const message = problemOf(fileOf(a, b, 'x'));
    expect(message).toMatch(/^cases\.json: 3 problems:\n/);
    expect(message).toContain('case 1 "linear-small": id "linear-small" is also the id of case 0; ids must be unique');
    expect(message).toContain('case 1 "linear-small": unknown op "nope"');
    expect(message).toContain('case 2: must be an object, got "x"');
  });

  it('a file that cannot be read names the path', () => {
    expect(() => readCaseFile('/nonexistent/cases.json')).toThrow('/nonexistent/cases.json: cannot read the file: no such file');
    const dir = mkdtempSync(join(tmpdir(), 'welford-cases-'));
    const path = join(dir, 'ok.json');
    writeFileSync(path, fileOf(linearCase()));
    expect(readCaseFile(path, 'ok.json').source).toBe('ok.json');
  });
});
