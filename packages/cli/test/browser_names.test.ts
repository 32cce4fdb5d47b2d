import { describe, expect, it } from 'vitest';
import { takeBrowserOption } from '../src/browser/names.ts';

describe('takeBrowserOption', () => {
  it('takes --browser NAME or --browser=NAME out of the arguments, Chromium when absent', () => {
    expect(takeBrowserOption(['smoke', '--browser', 'firefox', 'replicas'])).toEqual({ browser: 'firefox', rest: ['smoke', 'replicas'] });
    expect(takeBrowserOption(['--quick', '--browser=chromium'])).toEqual({ browser: 'chromium', rest: ['--quick'] });
    expect(takeBrowserOption(['--quick'])).toEqual({ browser: 'chromium', rest: ['--quick'] });
  });

  it('refuses a missing or unknown browser, naming the ones there are', () => {
    expect(() => takeBrowserOption(['--browser'])).toThrow('--browser needs a browser (chromium or firefox)');
    expect(() => takeBrowserOption(['--browser=safari'])).toThrow("--browser takes chromium or firefox, not 'safari'");
  });
});
