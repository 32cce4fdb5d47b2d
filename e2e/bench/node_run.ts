// `pnpm bench:node [--quick] [--out DIR]`: the same benchmark suite as `pnpm bench`, run in Node
// on Dawn (the `webgpu` package, the WebGPU implementation inside Chromium) instead of in a
// Chromium page. For machines where Chromium is missing or cannot reach the GPU: the figures
// are Dawn's, without the browser's process hop. Writes node.json and node.md (bench/results by
// default). Exits non-zero when a row is missing; it never judges speed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireDevice, DAWN_FLAGS } from '@welford/core';
import { create } from 'webgpu';
import { problems } from './check.ts';
import { makePlan } from './page/timing.ts';
import { markdownTable, textTable, type RunInfo } from './table.ts';

function parseArgs(argv: string[]): { quick: boolean; out: string } {
  let quick = false;
  // This file runs bundled, from e2e/dist/bench-node/: the repository root is three folders up.
  let out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'results');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') continue;
    else if (a === '--quick') quick = true;
    else if (a === '--out' && argv[i + 1]) out = resolve(argv[++i]);
    else {
      console.error(`pnpm bench:node: unknown argument ${a}; usage: pnpm bench:node [--quick] [--out DIR]`);
      process.exit(2);
    }
  }
  return { quick, out };
}

/**
 * Gives TF.js the `navigator.gpu` it looks for, from the same Dawn and the same adapter welford
 * gets: acquireDevice picks the adapter (and points the Vulkan loader at SwiftShader when there
 * is no GPU), so an instance created after it sees the same one.
 */
async function installNavigatorGpu(userAgent: string): Promise<{ adapterName: string; software: boolean }> {
  const probe = await acquireDevice();
  probe.device.destroy();
  const gpu = create(DAWN_FLAGS);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent }, configurable: true, writable: true });
  return { adapterName: probe.adapterName, software: probe.software };
}

async function main(): Promise<number> {
  const { quick, out } = parseArgs(process.argv.slice(2));
  const host = `Node ${process.version}, Dawn (webgpu npm package)`;
  try {
    const { adapterName, software } = await installNavigatorGpu(host);
    // TF.js registers its webgpu backend when it loads, so the suite is imported only now.
    const { runSuite } = await import('./page/suite.ts');
    const info: RunInfo = {
      date: new Date().toISOString(),
      command: `pnpm bench:node${quick ? ' --quick' : ''}`,
      host,
      webgpu: software ? `SwiftShader (${adapterName})` : `hardware GPU (${adapterName})`,
    };
    console.log(`benchmarks in ${host} on ${adapterName}, ${quick ? 'quick' : 'full'} mode`);
    const t0 = Date.now();
    const report = await runSuite(makePlan(quick), host, (m) => console.log(`  ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s  ${m}`));
    console.log(`\n${textTable(report, info)}\n`);
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'node.json'), `${JSON.stringify({ ...info, ...report }, null, 2)}\n`);
    writeFileSync(join(out, 'node.md'), markdownTable(report, info));
    console.log(`wrote ${join(out, 'node.json')} and node.md`);
    for (const l of report.losses.filter((l) => l.agree === false)) console.log(`warning: ${l.model}: the first-step losses of welford and TF.js disagree`);
    const wrong = problems(report, []);
    for (const p of wrong) console.error(`FAIL  ${p}`);
    return wrong.length ? 1 : 0;
  } catch (e) {
    console.error(`FAIL  the benchmarks did not run: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 1;
  }
}

process.exitCode = await main();
// Dawn keeps worker threads alive; the run is over.
process.exit();
