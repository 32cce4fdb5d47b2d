// The Deno suite: welford's GPU checks that matter most, on Deno's own WebGPU (wgpu, naga),
// against the CPU reference. One line per check, then "N passed, M failed"; exits 1 on a
// failure. Started by launch.ts (`pnpm test:deno`), or directly:
//   deno run --unstable-webgpu -A e2e/deno/run.ts
import { acquireDevice, CpuBackend, setBackend, WebGpuBackend } from '@welford/core';
import type { Check, CheckContext } from './check.ts';
import { convChecks } from './checks/conv.ts';
import { normChecks } from './checks/norms.ts';
import { opChecks } from './checks/ops.ts';
import { shaderCheck } from './checks/shaders.ts';
import { trainingChecks } from './checks/training.ts';

const deno = (globalThis as { Deno?: { version: { deno: string; v8: string } } }).Deno;

const runtimeCheck: Check = {
  name: "the device comes from Deno's own navigator.gpu",
  async run({ gpu }) {
    if (gpu.acquired.runtime !== 'deno') throw new Error(`runtime '${gpu.acquired.runtime}', want 'deno' (run this file with deno)`);
  },
};

async function main(): Promise<number> {
  let gpu: WebGpuBackend;
  try {
    gpu = new WebGpuBackend(await acquireDevice());
  } catch (e) {
    console.log(`FAIL acquiring a device: ${(e as Error).message}`);
    console.log('0 passed, 1 failed');
    return 1;
  }
  const { acquired } = gpu;
  console.log(`runtime: ${acquired.runtime}${deno ? ` (Deno ${deno.version.deno}, V8 ${deno.version.v8})` : ''}`);
  console.log(`adapter: ${acquired.adapterName}${acquired.software ? ' [software]' : ''}; subgroups ${gpu.hasSubgroups ? 'on' : 'off'}, timestamps ${gpu.canTimeDispatches ? 'on' : 'off'}`);
  const ctx: CheckContext = { gpu, cpu: new CpuBackend() };
  setBackend(gpu);
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const check of [runtimeCheck, shaderCheck, ...normChecks, ...convChecks, ...opChecks, ...trainingChecks]) {
    try {
      const note = await check.run(ctx);
      if (typeof note === 'object') {
        skipped++;
        console.log(`skip ${check.name}: ${note.skip}`);
        continue;
      }
      passed++;
      console.log(`ok   ${check.name}${note ? ` (${note})` : ''}`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${check.name}: ${(e as Error).message}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  gpu.device.destroy();
  return failed === 0 ? 0 : 1;
}

process.exit(await main());
