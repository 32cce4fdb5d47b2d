import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { consoleSink, memorySink, parseJsonLine, summaryLine, toJsonLine, type StatsRecord } from '../src/index.ts';
import { jsonLinesSink } from '../src/node/index.ts';

/** A record as probes make them, with a NaN and an infinity in it. */
function record(step: number, badMean = 0.25): StatsRecord {
  return {
    step,
    layers: {
      bn1: { type: 'BatchNorm2d', order: 0, input: { mean: [badMean, -1], var: [1, 2] }, output: { mean: [0, 0], var: [1, 1] }, covariateShift: 0.125 },
      relu1: { type: 'ReLU', order: 1, output: { mean: [0.5, 0.25], var: [0.5, 0.5] }, activation: { deadFraction: 0.5, mean: 0.375, std: 0.75 } },
    },
    params: { 'fc.weight': { gradNorm: 0.5, weightNorm: 2, updateNorm: 0.05, updateRatio: Number.POSITIVE_INFINITY } },
    histograms: {},
    nonFinite: Number.isFinite(badMean) ? [] : ['bn1'],
    nonFiniteParams: [],
  };
}

const dir = mkdtempSync(join(tmpdir(), 'welford-stats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('JSON lines', () => {
  it('a line round-trips a record, non-finite numbers included', () => {
    const r = record(3, Number.NaN);
    const line = toJsonLine(r);
    expect(line).not.toContain('\n');
    expect(JSON.parse(line).layers.bn1.input.mean[0]).toBe('NaN');
    expect(parseJsonLine(line)).toEqual(r);
  });

  it('the Node sink appends one parseable line per record, in order', async () => {
    const path = join(dir, 'runs', 'stats.jsonl');
    const sink = jsonLinesSink(path);
    sink.write(record(0));
    sink.write(record(10, Number.NaN));
    await sink.flush();
    // A second sink on the same file appends; truncate starts it afresh.
    const more = jsonLinesSink(path);
    more.write(record(20));
    await more.flush();
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.length).toBe(3);
    const parsed = lines.map((l) => JSON.parse(l) as { step: number });
    expect(parsed.map((p) => p.step)).toEqual([0, 10, 20]);
    expect(parseJsonLine(lines[1])).toEqual(record(10, Number.NaN));
    const fresh = jsonLinesSink(path, { truncate: true });
    fresh.write(record(30));
    await fresh.flush();
    expect(readFileSync(path, 'utf8').trim().split('\n').length).toBe(1);
  });

  it('the Node sink reports a failed write on flush, once', async () => {
    // A plain file where the sink needs a directory.
    const file = join(dir, 'plain');
    writeFileSync(file, '');
    const sink = jsonLinesSink(join(file, 'stats.jsonl'));
    sink.write(record(0));
    await expect(sink.flush()).rejects.toThrow(/ENOTDIR|EEXIST/);
    await expect(sink.flush()).resolves.toBeUndefined();
    // Told at once, naming the file, to a caller that asks.
    const told: Error[] = [];
    const watched = jsonLinesSink(join(file, 'other.jsonl'), { onError: (e) => told.push(e) });
    watched.write(record(0));
    await expect(watched.flush()).rejects.toThrow(join(file, 'other.jsonl'));
    expect(told.length).toBeGreaterThanOrEqual(1);
    expect(told[0].message).toContain(join(file, 'other.jsonl'));
    expect(() => jsonLinesSink('')).toThrow('jsonLinesSink: expected a file path, got ""');
  });
});

describe('memory sink', () => {
  it('keeps a bounded history and tells subscribers until they unsubscribe', () => {
    const sink = memorySink({ capacity: 2 });
    const heard: number[] = [];
    const stop = sink.subscribe((r) => heard.push(r.step));
    expect(sink.latest).toBeNull();
    sink.write(record(0));
    sink.write(record(1));
    sink.write(record(2));
    stop();
    sink.write(record(3));
    expect(heard).toEqual([0, 1, 2]);
    expect(sink.history.map((r) => r.step)).toEqual([2, 3]);
    expect(sink.latest!.step).toBe(3);
    sink.clear();
    expect(sink.history).toEqual([]);
    expect(() => memorySink({ capacity: 0 })).toThrow('memorySink: capacity must be a positive integer, got 0');
  });

  it('a failing subscriber does not keep the others from the record', () => {
    const sink = memorySink();
    const heard: number[] = [];
    sink.subscribe(() => {
      throw new Error('broken panel');
    });
    sink.subscribe((r) => heard.push(r.step));
    expect(() => sink.write(record(5))).toThrow('broken panel');
    expect(heard).toEqual([5]);
  });
});

describe('console sink', () => {
  it('prints one compact line per record', () => {
    const lines: string[] = [];
    consoleSink({ log: (l) => lines.push(l) }).write(record(40));
    expect(lines).toEqual([
      'step 40 | bn1 in -0.375±1.38 shift 0.125 | relu1 dead 0.5 | |grad| max 0.5 (fc.weight) | dw/w max inf (fc.weight) | non-finite: none',
    ]);
    expect(summaryLine(record(41, Number.NaN))).toContain('bn1 in nan±nan shift 0.125 | relu1 dead 0.5');
    expect(summaryLine(record(41, Number.NaN))).toMatch(/non-finite: bn1$/);
  });
});
