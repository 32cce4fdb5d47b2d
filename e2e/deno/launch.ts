// `pnpm test:deno`: starts the Deno suite (run.ts) with the deno binary of the @deno/linux-x64-glibc
// package (or $DENO, or deno on the PATH). wgpu, like Dawn, finds no Vulkan adapter where no
// Vulkan driver is installed (it would take Mesa's llvmpipe through GL instead), so then the
// SwiftShader driver is pointed out in VK_ICD_FILENAMES, as the Node loader does for Dawn.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { swiftShaderIcdCandidates } from '../../packages/core/src/device/dawn_settings.ts';
import { installedVulkanDrivers } from '../../packages/core/src/device/vulkan_drivers.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

function denoBinary(): string {
  if (process.env.DENO) return process.env.DENO;
  try {
    const pkg = createRequire(import.meta.url).resolve('@deno/linux-x64-glibc/package.json');
    const binary = join(dirname(pkg), 'deno');
    if (existsSync(binary)) return binary;
  } catch {
    // Not installed on this platform: try the PATH.
  }
  return 'deno';
}

const env: Record<string, string | undefined> = { ...process.env, DENO_NO_UPDATE_CHECK: '1' };
if (installedVulkanDrivers() === 0) {
  const icd = swiftShaderIcdCandidates(process.env.WELFORD_SWIFTSHADER_ICD).find((p) => existsSync(p));
  if (icd) {
    env.VK_ICD_FILENAMES = icd;
    console.log(`no Vulkan driver is installed: VK_ICD_FILENAMES=${icd}`);
  }
}
const deno = denoBinary();
const run = spawnSync(deno, ['run', '--unstable-webgpu', '-A', 'e2e/deno/run.ts'], { cwd: root, env, stdio: 'inherit' });
if (run.error) {
  console.error(`could not start ${deno}: ${run.error.message} (pnpm install brings @deno/linux-x64-glibc; elsewhere set DENO to a deno binary)`);
  process.exit(1);
}
process.exit(run.status ?? 1);
