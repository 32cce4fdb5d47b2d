// `welford conformance --browser`: the same case files run on the WebGPU of headless Chromium
// and Firefox (Debian's, SwiftShader), with the same rows, summary and exit statuses as in Node;
// and the protocol that brings the results back from the page, numbers exact.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { linear, relu } from './small_cases.ts';
import { welford } from './run_command.ts';
import { decodeRunResponse, encodeRunResponse } from '../src/conformance/browser/protocol.ts';
import type { CaseResult } from '../src/conformance/runner.ts';

let dir: string;
let passing: string;
let failing: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'welford-conformance-browser-'));
  passing = join(dir, 'passing.json');
  failing = join(dir, 'failing.json');
  writeFileSync(passing, JSON.stringify({ version: 1, cases: [relu, linear('linear-small', [8, -6, 8, 3])] }));
  writeFileSync(failing, JSON.stringify({ version: 1, cases: [relu, linear('linear-wrong', [8, -6, 8.5, 3])] }));
});

const AGENTS = { chromium: 'HeadlessChrome', firefox: 'Firefox' } as const;

describe.each(['chromium', 'firefox'] as const)('welford conformance --browser %s', (browser) => {
  it('prints a row per case and "N passed, 0 failed", exit 0', async () => {
    const r = await welford('conformance', passing, '--browser', browser);
    console.log(`welford conformance --browser ${browser}: ${r.seconds.toFixed(1)} s`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines[0]).toMatch(new RegExp(`^conformance on webgpu: .* in ${AGENTS[browser]}/[\\d.]+$`));
    expect(r.lines[1]).toMatch(/^relu-small {4}relu {4}PASS {2}output 0 {2}grad\.input 0$/);
    expect(r.lines[2]).toMatch(/^linear-small {2}linear {2}PASS {2}output \S+ {2}grad\.weight \S+$/);
    expect(r.lines.at(-1)).toBe('2 passed, 0 failed');
    expect(r.lines).toHaveLength(4);
  });

  it('a value outside the tolerance fails its case, says where, exits 1, and --json records it', async () => {
    const out = join(dir, `${browser}.json`);
    const r = await welford('conformance', failing, '--browser', browser, '--json', out);
    expect(r.code, r.stderr).toBe(1);
    expect(r.lines.find((l) => l.startsWith('linear-wrong'))).toMatch(/ FAIL {2}output 5\.0e-1 FAIL \(at \[1, 0\]: got 8, want 8\.5\) {2}grad\.weight \S+$/);
    expect(r.lines.find((l) => l.startsWith('relu-small'))).toContain(' PASS ');
    expect(r.lines.at(-1)).toBe('1 passed, 1 failed');
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json).toMatchObject({ version: 1, passed: 1, failed: 1, files: [failing] });
    expect(json.backend).toMatch(new RegExp(`^webgpu: .* in ${AGENTS[browser]}/`));
    const output = json.cases[1].compared.find((c: { name: string }) => c.name === 'output');
    expect(output).toMatchObject({ passed: false, maxAbsError: 0.5, worst: { index: [1, 0], got: 8, want: 8.5 } });
  });
});

describe('welford conformance --browser: arguments', () => {
  it('an unknown browser, a missing one, or --backend cpu with --browser print the usage and exit 2', async () => {
    for (const args of [['--browser', 'safari'], ['--browser'], ['--browser', 'firefox', '--backend', 'cpu']]) {
      const r = await welford('conformance', passing, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('usage: welford conformance FILE...');
    }
    const safari = await welford('conformance', passing, '--browser', 'safari');
    expect(safari.stderr).toContain('welford conformance: --browser must be chromium or firefox, got "safari"');
  });
});

describe('the page protocol', () => {
  it('brings results back exactly: float32 values, NaN and ±Infinity where they are numbers, strings as they are', () => {
    const f32 = Math.fround(0.1);
    const results: CaseResult[] = [
      {
        source: 'cases.json',
        id: 'NaN',
        op: 'relu',
        passed: false,
        comparisons: [
          { name: 'output', passed: false, maxAbsError: NaN, worst: { index: [0, 2], got: NaN, want: f32 } },
          { name: 'grad.input', passed: false, maxAbsError: Infinity, worst: { index: [1], got: -Infinity, want: -1e-38 } },
          { name: 'running_mean', passed: true, maxAbsError: 2 ** -149 },
          { name: 'running_var', passed: false, maxAbsError: NaN, problem: 'shape [2], expected [3]' },
        ],
        seconds: 0.125,
      },
      { source: 'cases.json', id: 'broken', op: 'linear', passed: false, comparisons: [], error: 'Infinity', seconds: 0 },
    ];
    const response = decodeRunResponse(encodeRunResponse({ ok: true, results }));
    expect(response).toEqual({ ok: true, results });
    expect(Object.is((response as { results: CaseResult[] }).results[0].comparisons[0].worst!.want, f32)).toBe(true);
  });
});
