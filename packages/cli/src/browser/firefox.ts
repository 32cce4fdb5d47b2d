// Firefox beside Chromium: finding Debian's Firefox ESR (never a downloaded one), and the
// preferences and environment that give it WebGPU (wgpu/naga) in headless mode. Puppeteer drives
// it over WebDriver BiDi.
import { existsSync } from 'node:fs';
import { swiftShaderIcdCandidates } from '@welford/core';

/** The Firefox to drive: `WELFORD_FIREFOX`, or Debian's `/usr/bin/firefox-esr`. */
export function firefoxPath(): string {
  const path = process.env.WELFORD_FIREFOX || '/usr/bin/firefox-esr';
  if (!existsSync(path)) {
    throw new Error(
      `no Firefox at ${path}. Install Debian's firefox-esr (apt-get install firefox-esr) or set WELFORD_FIREFOX=/path/to/firefox (a Firefox with WebGPU).`,
    );
  }
  return path;
}

/**
 * Firefox preferences for WebGPU: enabled, and allowed on whatever adapter the machine has (a
 * software Vulkan driver is on the blocklist, and headless Firefox would otherwise offer none).
 * The others keep a closed network quiet.
 */
export function firefoxPrefs(): Record<string, unknown> {
  return {
    'dom.webgpu.enabled': true,
    'gfx.webgpu.ignore-blocklist': true,
    'gfx.webgpu.force-enabled': true,
    'app.update.enabled': false,
    'browser.shell.checkDefaultBrowser': false,
    'datareporting.policy.dataSubmissionEnabled': false,
    'toolkit.telemetry.enabled': false,
  };
}

/**
 * The SwiftShader Vulkan driver's manifest for Firefox: `WELFORD_SWIFTSHADER_ICD`, or the one
 * Debian's Chromium (or Chrome) ships. Firefox on Mesa's lavapipe offers no WebGPU adapter.
 */
export function swiftShaderIcd(): string {
  const candidates = swiftShaderIcdCandidates(process.env.WELFORD_SWIFTSHADER_ICD);
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new Error(
      `Firefox's WebGPU needs the SwiftShader Vulkan driver, and none was found (tried ${candidates.join(', ')}). Install Debian's chromium (it ships the driver) or set WELFORD_SWIFTSHADER_ICD=/path/to/vk_swiftshader_icd.json.`,
    );
  }
  return found;
}

/**
 * The environment Firefox is launched with. With `swiftshader` (the default, and the only choice
 * on a machine without a GPU) the Vulkan loader sees the SwiftShader driver alone; without it,
 * the machine's own Vulkan drivers.
 */
export function firefoxEnv({ swiftshader = true }: { swiftshader?: boolean } = {}): Record<string, string | undefined> {
  return swiftshader ? { ...process.env, VK_ICD_FILENAMES: swiftShaderIcd() } : { ...process.env };
}
