// The browsers welford drives, by name (plain data: the argument parser reads it without loading
// Puppeteer or Vite).

/** The browsers welford drives. */
export const BROWSER_NAMES = ['chromium', 'firefox'] as const;
export type BrowserName = (typeof BROWSER_NAMES)[number];

/** Whether `text` names a browser welford drives. */
export function isBrowserName(text: string): text is BrowserName {
  return (BROWSER_NAMES as readonly string[]).includes(text);
}

/**
 * Takes `--browser NAME` or `--browser=NAME` out of a command's arguments: the browser (Chromium
 * when the option is absent) and the other arguments, in order. Throws saying what is wrong with
 * a missing or unknown name.
 */
export function takeBrowserOption(args: readonly string[]): { browser: BrowserName; rest: string[] } {
  let browser: BrowserName = 'chromium';
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const name = arg === '--browser' ? args[++i] : arg.startsWith('--browser=') ? arg.slice('--browser='.length) : null;
    if (name === null) rest.push(arg);
    else if (name === undefined) throw new Error(`--browser needs a browser (${BROWSER_NAMES.join(' or ')})`);
    else if (!isBrowserName(name)) throw new Error(`--browser takes ${BROWSER_NAMES.join(' or ')}, not '${name}'`);
    else browser = name;
  }
  return { browser, rest };
}
