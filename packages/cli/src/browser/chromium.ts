// What everything that drives Chromium shares (the browser tests, the browser benchmarks,
// `welford train --browser`): finding Debian's Chromium (never a downloaded one), the switches
// that give it WebGPU, and building a page with Vite and serving the build on 127.0.0.1.
import { existsSync } from 'node:fs';
import { build, preview, type PreviewServer } from 'vite';

/** Switches that keep a closed network quiet and size the window; none touches the GPU. */
const QUIET_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--window-size=900,600',
];

/**
 * Chromium switches for WebGPU. With `swiftshader` (the default, and the only choice on a machine
 * without a GPU) WebGPU runs on the SwiftShader Vulkan driver; without it Chromium picks the
 * machine's GPU through Vulkan, and the GPU blocklist is ignored so headless Chromium does not
 * fall back to software on its own.
 */
export function chromiumArgs({ swiftshader = true }: { swiftshader?: boolean } = {}): string[] {
  const gpu = swiftshader ? ['--use-angle=swiftshader', '--use-vulkan=swiftshader'] : ['--ignore-gpu-blocklist'];
  return ['--enable-unsafe-webgpu', '--enable-features=Vulkan', ...gpu, '--disable-vulkan-surface', ...QUIET_ARGS];
}

/** The Chromium to drive: `WELFORD_CHROME`, or Debian's `/usr/bin/chromium`. */
export function chromePath(): string {
  const path = process.env.WELFORD_CHROME || '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(
      `no Chromium at ${path}. Install Debian's chromium (apt-get install chromium) or set WELFORD_CHROME=/path/to/chrome (Chrome or Chromium with WebGPU).`,
    );
  }
  return path;
}

/** Options of `buildPage`. */
export interface BuildPageOptions {
  /** kB above which Vite warns about a chunk (raise it for pages that bundle a large library). */
  chunkSizeWarningLimit?: number;
}

/** Builds the page whose index.html is in `root` into `outDir` with Vite (relative URLs, so any folder serves it). */
export async function buildPage(root: string, outDir: string, { chunkSizeWarningLimit }: BuildPageOptions = {}): Promise<void> {
  // Web Workers are bundled as ES modules (the page's replicas run in them). No other setting is
  // needed: Node-only code stays out of browser bundles through the packages' own conditions,
  // and modules name themselves by a declared typeName that minification keeps.
  const worker = { format: 'es' as const };
  await build({ root, configFile: false, logLevel: 'warn', base: './', worker, build: { outDir, emptyOutDir: true, chunkSizeWarningLimit } });
}

/** Serves a built page (and whatever else is in `outDir`) on 127.0.0.1, from port 4173 up. */
export function servePage(root: string, outDir: string): Promise<PreviewServer> {
  return preview({ root, configFile: false, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 4173, strictPort: false, open: false } });
}

/** `buildPage`, then `servePage`. */
export async function buildAndServe(root: string, outDir: string, options: BuildPageOptions = {}): Promise<PreviewServer> {
  await buildPage(root, outDir, options);
  return servePage(root, outDir);
}
