// `@welford/cli/browser`: launching headless Chromium or Firefox with WebGPU, and building and
// serving a page with Vite, for whatever drives a browser (the browser tests and benchmarks).
export { buildAndServe, buildPage, chromePath, chromiumArgs, servePage, type BuildPageOptions } from './chromium.ts';
export { firefoxEnv, firefoxPath, firefoxPrefs, swiftShaderIcd } from './firefox.ts';
export { browserPath, launchBrowser, type LaunchedBrowser, type LaunchOptions } from './launch.ts';
export { BROWSER_NAMES, isBrowserName, takeBrowserOption, type BrowserName } from './names.ts';
