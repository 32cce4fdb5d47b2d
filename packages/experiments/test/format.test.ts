import { describe, expect, it } from 'vitest';
import { formatCell, formatTable, markdownTable } from '../src/index.ts';
import type { ResultTable } from '../src/index.ts';

const table: ResultTable = {
  title: 'Errors',
  columns: [{ label: 'N', digits: 0 }, { label: 'max |y − β|', scientific: true }, { label: 'accuracy', percent: true }, { label: 'note' }],
  rows: [
    [1, 0, 0.912, 'refused'],
    [16, 1.5e-7, null, 'ok'],
  ],
};

describe('result formatting', () => {
  it('writes cells as their columns say', () => {
    expect(formatCell(0.91234, { label: 'a', percent: true })).toBe('91.2 %');
    expect(formatCell(1.5e-7, { label: 'a', scientific: true })).toBe('1.50e-7');
    expect(formatCell(2, { label: 'a', digits: 0 })).toBe('2');
    expect(formatCell(null, { label: 'a' })).toBe('—');
    expect(formatCell(NaN, { label: 'a' })).toBe('NaN');
  });

  it('aligns text tables: numbers right, text left', () => {
    expect(formatTable(table).split('\n')).toEqual([
      'Errors',
      ' N  max |y − β|  accuracy  note',
      '--  -----------  --------  -------',
      ' 1      0.00e+0    91.2 %  refused',
      '16      1.50e-7         —  ok',
    ]);
  });

  it('escapes a "|" in Markdown cells and headers', () => {
    const lines = markdownTable(table).split('\n');
    expect(lines[2]).toBe('| N | max \\|y − β\\| | accuracy | note |');
    expect(lines[3]).toBe('| ---: | ---: | ---: | --- |');
    expect(lines[4]).toBe('| 1 | 0.00e+0 | 91.2 % | refused |');
  });
});
