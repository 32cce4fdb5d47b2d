// The browsers welford drives, by name (plain data: the argument parser reads it without loading
// Puppeteer or Vite).

/** The browsers welford drives. */
export const BROWSER_NAMES = ['chromium', 'firefox'] as const;
export type BrowserName = (typeof BROWSER_NAMES)[number];

/** Whether `text` names a browser welford drives. */
export function isBrowserName(text: string): text is BrowserName {
  return (BROWSER_NAMES as readonly string[]).includes(text);
}
