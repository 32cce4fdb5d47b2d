// Whether the Vulkan loader would find a driver, on Linux, without asking it (asking makes it print
// "Found no drivers!"). Node-only; the Dawn loader uses it, and so does the Deno suite's launcher
// to decide whether wgpu needs SwiftShader pointed out.
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * How many Vulkan driver manifests the Vulkan loader would find on Linux (Infinity elsewhere, or
 * where an environment variable chooses the drivers): the folders are the loader's own, in its
 * order (XDG config and data folders, /etc, /usr/local/share, /usr/share).
 */
export function installedVulkanDrivers(env: NodeJS.ProcessEnv = process.env): number {
  if (process.platform !== 'linux') return Infinity;
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES || env.VK_ADD_DRIVER_FILES) return Infinity;
  const configDirs = [env.XDG_CONFIG_HOME || join(homedir(), '.config'), ...(env.XDG_CONFIG_DIRS || '/etc/xdg').split(':'), '/etc'];
  const dataDirs = [env.XDG_DATA_HOME || join(homedir(), '.local/share'), ...(env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':')];
  let count = 0;
  for (const dir of [...configDirs, ...dataDirs]) {
    const icd = join(dir, 'vulkan', 'icd.d');
    if (!dir || !existsSync(icd)) continue;
    try {
      count += readdirSync(icd).filter((f) => f.endsWith('.json')).length;
    } catch {
      // An unreadable folder gives the loader nothing either.
    }
  }
  return count;
}
