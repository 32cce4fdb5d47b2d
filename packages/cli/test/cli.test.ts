// The command line as a user runs it: `welford conformance` (the package's bin) and
// `pnpm conformance` (the root script), on small case files written here.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { linear, relu } from './small_cases.ts';
import { root, run, welford } from './run_command.ts';

let dir: string;
const file = (name: string, cases: unknown[]): string => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ version: 1, cases }));
  return path;
};
let passing: string;
let failing: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'welford-cli-'));
  passing = file('passing.json', [relu, linear('linear-small', [8, -6, 8, 3])]);
  failing = file('failing.json', [relu, linear('linear-wrong', [8, -6, 8.5, 3])]);
});

describe('welford conformance', () => {
  it('runs on WebGPU by default: a row per case, "N passed, M failed" last, exit 0', async () => {
    const r = await welford('conformance', passing);
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines[0]).toMatch(/^conformance on webgpu: /);
    expect(r.lines[1]).toMatch(/^relu-small {4}relu {4}PASS {2}output 0 {2}grad\.input 0$/);
    expect(r.lines[2]).toMatch(/^linear-small {2}linear {2}PASS {2}output \S+ {2}grad\.weight \S+$/);
    expect(r.lines.at(-1)).toBe('2 passed, 0 failed');
    expect(r.lines).toHaveLength(4);
  });

  it('--backend cpu runs the same cases on the CPU reference', async () => {
    const r = await welford('conformance', passing, '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines[0]).toBe('conformance on cpu: TypeScript reference (float64 accumulation)');
    expect(r.lines.filter((l) => l.includes(' PASS '))).toHaveLength(2);
    expect(r.lines.at(-1)).toBe('2 passed, 0 failed');
  });

  it('a value outside the tolerance fails its case, says where, and exits 1', async () => {
    const r = await welford('conformance', failing, '--backend=cpu');
    expect(r.code).toBe(1);
    const row = r.lines.find((l) => l.startsWith('linear-wrong'));
    expect(row).toMatch(/ FAIL {2}output 5\.0e-1 FAIL \(at \[1, 0\]: got 8, want 8\.5\) {2}grad\.weight \S+$/);
    expect(r.lines.find((l) => l.startsWith('relu-small'))).toContain(' PASS ');
    expect(r.lines.at(-1)).toBe('1 passed, 1 failed');
  });

  it('--json writes the per-case results', async () => {
    const out = join(dir, 'results', 'run.json');
    const r = await welford('conformance', failing, '--backend', 'cpu', '--json', out);
    expect(r.code).toBe(1);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json).toMatchObject({ version: 1, passed: 1, failed: 1, files: [failing] });
    expect(json.backend).toMatch(/^cpu/);
    expect(json.cases.map((c: { id: string; passed: boolean }) => [c.id, c.passed])).toEqual([
      ['relu-small', true],
      ['linear-wrong', false],
    ]);
    const output = json.cases[1].compared.find((c: { name: string }) => c.name === 'output');
    expect(output).toMatchObject({ passed: false, maxAbsError: 0.5, worst: { index: [1, 0], got: 8, want: 8.5 } });
    expect(r.lines.at(-1)).toBe('1 passed, 1 failed');
  });

  it('an unknown op is an error naming the case, without a stack trace, exit 2', async () => {
    const path = file('unknown.json', [relu, { ...relu, id: 'mystery', op: 'softplus' }]);
    const r = await welford('conformance', path, '--backend', 'cpu');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`welford conformance: ${path}: case 1 "mystery": unknown op "softplus" (known ops: batch_norm,`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a malformed file is an error naming the case and the field, exit 2', async () => {
    const path = file('malformed.json', [{ ...relu, inputs: { input: { shape: [2, 3], data: [1, 2] } } }]);
    const r = await welford('conformance', path, '--backend', 'cpu');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path}: case 0 "relu-small": inputs.input: shape [2, 3] holds 6 values, but data has 2`);
    const missing = await welford('conformance', join(dir, 'absent.json'), '--backend', 'cpu');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('absent.json: cannot read the file: no such file');
  });

  it('bad arguments print the usage and exit 2', async () => {
    for (const args of [['conformance'], ['conformance', passing, '--backend', 'tpu'], ['conformance', passing, '--verbose'], ['train']]) {
      const r = await welford(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('usage: welford conformance FILE...');
    }
    const help = await welford('conformance', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--backend cpu');
  });

  it('pnpm conformance reads paths relative to where it is typed', async () => {
    const sub = join(dir, 'sub');
    mkdirSync(sub, { recursive: true });
    const r = await run('pnpm', ['--silent', '--dir', root, 'conformance', '../passing.json', '--backend', 'cpu'], { cwd: sub });
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines.at(-1)).toBe('2 passed, 0 failed');
  });
});
