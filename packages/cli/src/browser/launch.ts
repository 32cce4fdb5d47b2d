// Launching a headless browser with WebGPU by name: Chromium (over the DevTools protocol) or
// Firefox (over WebDriver BiDi), each Debian's own, with the switches, preferences and
// environment that give it a WebGPU adapter. Everything that drives a browser launches it here.
import puppeteer, { type Browser } from 'puppeteer-core';
import { chromePath, chromiumArgs } from './chromium.ts';
import { firefoxEnv, firefoxPath, firefoxPrefs } from './firefox.ts';
import type { BrowserName } from './names.ts';

/** The executable of the named browser (`WELFORD_CHROME`, `WELFORD_FIREFOX`, or Debian's); throws saying how to install it. */
export function browserPath(name: BrowserName): string {
  return name === 'firefox' ? firefoxPath() : chromePath();
}

/** Options of `launchBrowser`. */
export interface LaunchOptions {
  /** WebGPU on the SwiftShader Vulkan driver (default); false: the machine's GPU. */
  swiftshader?: boolean;
  /** Milliseconds the browser may take to start (Puppeteer's default: 30 s). */
  timeout?: number;
  /** Milliseconds one protocol call may take, `page.evaluate` included (Puppeteer's default: 180 s). */
  protocolTimeout?: number;
  /** Let Puppeteer close the browser and exit on SIGINT and SIGTERM (default true); false where the caller handles them. */
  handleSignals?: boolean;
}

/** A launched browser, with what it is. */
export interface LaunchedBrowser {
  browser: Browser;
  name: BrowserName;
  executablePath: string;
  /** The browser's own name and version, e.g. "Chrome/156.0.8078.129" or "firefox/153.8.0esr". */
  version: string;
}

/** Launches the named browser headless with WebGPU (on SwiftShader unless `swiftshader` is false). */
export async function launchBrowser(name: BrowserName, options: LaunchOptions = {}): Promise<LaunchedBrowser> {
  const { swiftshader = true, timeout, protocolTimeout, handleSignals = true } = options;
  const executablePath = browserPath(name);
  const signals = handleSignals ? {} : { handleSIGINT: false, handleSIGTERM: false };
  const common = { executablePath, headless: true, timeout, protocolTimeout, ...signals };
  const browser =
    name === 'firefox'
      ? await puppeteer.launch({ ...common, browser: 'firefox', extraPrefsFirefox: firefoxPrefs(), env: firefoxEnv({ swiftshader }) })
      : await puppeteer.launch({ ...common, browser: 'chrome', args: chromiumArgs({ swiftshader }) });
  return { browser, name, executablePath, version: await browser.version() };
}
