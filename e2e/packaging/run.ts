// The packaging test: what a user gets from npm. Packs every public package with `pnpm pack`
// (each builds its dist/ first), installs the tarballs with npm into a new project in a temporary
// folder outside the repository (dependencies from the registry), and then, as that user would:
// runs the READMEs' examples with plain node, type-checks TypeScript against the installed
// declarations, builds the README's Vite app and trains in it in headless Chromium, runs the
// installed `welford` command, and measures two browser bundles. Prints one line per check and
// "N passed, M failed"; exits non-zero on any failure (the folder is then kept and named).
//   node --import tsx packaging/run.ts        (from e2e/; pnpm test:packaging)
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kB, measureBundles, unwantedSources, type BundleSize } from './bundle_size.ts';
import { CONSUMER_TSCONFIGS, CONSUMER_TYPES } from './consumer_types.ts';
import { manifestProblems } from './packed_manifest.ts';
import { runOk, tail } from './processes.ts';
import { readmeExamples } from './readme_examples.ts';
import { runViteApp } from './vite_app.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(join(tmpdir(), 'welford-packaging-'));
const tarballs = join(work, 'tarballs');
const project = join(work, 'project');

/** The workspace's public packages, by folder name. */
const PUBLIC = readdirSync(join(root, 'packages'))
  .filter((d) => existsSync(join(root, 'packages', d, 'package.json')))
  .filter((d) => !(JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')) as { private?: boolean }).private)
  .sort();

/** The version range the workspace itself uses for a tool the consumer installs from the registry. */
function workspaceRange(dep: string): string {
  for (const file of ['package.json', 'e2e/package.json', 'playground/package.json']) {
    const m = JSON.parse(readFileSync(join(root, file), 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    const range = m.devDependencies?.[dep] ?? m.dependencies?.[dep];
    if (range) return range;
  }
  throw new Error(`no workspace package.json names ${dep}`);
}

/** Fails when a command printed anything on stderr (Vulkan loader warnings, deprecations...). */
function expectQuiet(what: string, stderr: string): void {
  if (stderr.trim()) throw new Error(`${what} printed on stderr:\n${tail(stderr)}`);
}

/** The first and last loss of a "loss A → B" line. */
function lossFell(what: string, text: string): string {
  const m = /loss ([\d.]+) → ([\d.]+)/.exec(text);
  if (!m) throw new Error(`${what}: no "loss A → B" line in:\n${tail(text)}`);
  const [first, last] = [Number(m[1]), Number(m[2])];
  if (!(last < first)) throw new Error(`${what}: the loss went from ${first} to ${last}`);
  return `loss ${first} → ${last}`;
}

let passed = 0;
let failed = 0;
/** Runs one named check; a failed check that later ones need stops the run. */
async function step(name: string, body: () => Promise<string | void>, { needed = false } = {}): Promise<boolean> {
  const t0 = Date.now();
  try {
    const detail = await body();
    passed++;
    console.log(`ok   ${name}${detail ? `: ${detail}` : ''} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return true;
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}\n  ${e instanceof Error ? e.message : String(e)}`);
    if (needed) finish();
    return false;
  }
}

function finish(): never {
  console.log(`${passed} passed, ${failed} failed`);
  if (failed === 0) rmSync(work, { recursive: true, force: true });
  else console.log(`the packed tarballs and the consumer project are kept in ${work}`);
  process.exit(failed === 0 ? 0 : 1);
}

const examples = readmeExamples(root);
let sizes: BundleSize[] = [];

await step('pnpm pack writes a tarball of every public package', async () => {
  await runOk('pnpm', ['-r', 'pack', '--pack-destination', tarballs], root);
  const made = readdirSync(tarballs).sort();
  const missing = PUBLIC.filter((p) => !made.some((t) => t.startsWith(`welford-${p}-`)));
  if (missing.length > 0) throw new Error(`no tarball for ${missing.join(', ')} (made: ${made.join(', ')})`);
  // The private workspace projects (playground, e2e) have no version, so pnpm packs none of them.
  const extra = made.filter((t) => !PUBLIC.some((p) => t.startsWith(`welford-${p}-`)));
  if (extra.length > 0) throw new Error(`pnpm -r pack also packed ${extra.join(', ')}, which are not public packages`);
  return made.join(', ');
}, { needed: true });

await step('every tarball holds what its manifest points at (exports, imports, bin, LICENSE, README)', async () => {
  const problems = readdirSync(tarballs).flatMap((t) => manifestProblems(join(tarballs, t)).map((p) => `${t}: ${p}`));
  if (problems.length > 0) throw new Error(problems.join('\n  '));
});

await step('npm installs the tarballs into a new project outside the repository', async () => {
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'welford-consumer', private: true, type: 'module' }, null, 2)}\n`);
  const packed = readdirSync(tarballs).map((t) => join(tarballs, t));
  const tools = ['vite', 'typescript', '@types/node'].map((d) => `${d}@${workspaceRange(d)}`);
  await runOk('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...packed, ...tools], project);
  for (const dep of ['webgpu', 'wgsl_reflect', '@webgpu/types']) {
    if (!existsSync(join(project, 'node_modules', dep, 'package.json'))) throw new Error(`${dep} was not installed from the registry`);
  }
  return `${packed.length} tarballs, with ${tools.join(', ')}`;
}, { needed: true });

for (const e of examples) {
  const path = join(project, e.file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, e.code);
}

for (const e of examples.filter((x) => x.file.endsWith('.mjs'))) {
  await step(`plain node runs ${e.file} from ${e.packageDir}/README.md`, async () => {
    const { stdout, stderr } = await runOk('node', [e.file], project);
    expectQuiet(`node ${e.file}`, stderr);
    if (e.file === 'layers-train.mjs') {
      if (!existsSync(join(project, 'layers-train.safetensors'))) throw new Error('layers-train.safetensors was not written');
      if (!/reloaded it: same predictions/.test(stdout)) throw new Error(`no word of the reloaded model:\n${tail(stdout)}`);
      return `${lossFell(e.file, stdout)}, saved and reloaded`;
    }
    return stdout.trim().split('\n').at(-1);
  });
}

await step('tsc --noEmit --strict checks a browser app and a Node program against the installed declarations', async () => {
  writeFileSync(join(project, 'types-check.ts'), CONSUMER_TYPES);
  for (const [file, config] of Object.entries(CONSUMER_TSCONFIGS)) {
    writeFileSync(join(project, file), `${JSON.stringify(config, null, 2)}\n`);
    await runOk('npx', ['tsc', '-p', file], project);
  }
});

await step("vite build bundles the README's Vite app with no settings, and it trains in headless Chromium", async () => {
  if (!existsSync(join(project, 'src/main.ts')) || !existsSync(join(project, 'index.html'))) throw new Error('packages/layers/README.md has no index.html and src/main.ts blocks');
  const { log, errors } = await runViteApp(project, (text) => /loss [\d.]+ → [\d.]+/.test(text));
  if (errors.length > 0 || /^error:/m.test(log)) throw new Error(`the page failed:\n${tail([log, ...errors].join('\n'))}`);
  // Minified: the class names are mangled, the module still names itself.
  if (!/\(SmallCnn with \d+ parameter tensors\)/.test(log)) throw new Error(`the model did not name itself SmallCnn:\n${tail(log)}`);
  const steps = log.match(/^step \d+:/gm)?.length ?? 0;
  return `${steps} steps, ${lossFell('the page', log)}`;
});

await step('npx welford --help prints the commands', async () => {
  const { stdout, stderr } = await runOk('npx', ['welford', '--help'], project);
  expectQuiet('welford --help', stderr);
  for (const command of ['train', 'eval', 'conformance']) if (!stdout.includes(`usage: welford ${command}`)) throw new Error(`no usage of ${command}:\n${tail(stdout)}`);
});

await step('npx welford train trains a small CNN on MNIST digits and writes its run', async () => {
  const args = ['welford', 'train', '--model', 'small-cnn', '--norm', 'group', '--dataset', 'mnist', '--width', '8', '--depth', '2', '--batch', '16', '--steps', '6', '--train-limit', '96', '--test-limit', '32', '--log-every', '2', '--out', 'welford-run'];
  const { stdout, stderr } = await runOk('npx', args, project);
  expectQuiet('welford train', stderr);
  for (const file of ['checkpoint.safetensors', 'metrics.jsonl', 'run.json']) if (!existsSync(join(project, 'welford-run', file))) throw new Error(`welford-run/${file} was not written`);
  return stdout.trim().split('\n').find((l) => l.startsWith('test loss'));
});

await step('npx welford train --browser builds its page from the installed package and trains in headless Chromium', async () => {
  const args = ['welford', 'train', '--browser', '--model', 'small-cnn', '--norm', 'batch', '--dataset', 'mnist', '--width', '8', '--depth', '2', '--batch', '16', '--steps', '4', '--train-limit', '64', '--test-limit', '32', '--stats-every', '0', '--out', 'welford-browser-run'];
  const { stdout, stderr } = await runOk('npx', args, project);
  expectQuiet('welford train --browser', stderr);
  if (!existsSync(join(project, 'welford-browser-run', 'checkpoint.safetensors'))) throw new Error(`welford-browser-run/checkpoint.safetensors was not written:\n${tail(stdout)}`);
  return stdout.trim().split('\n').find((l) => l.startsWith('test loss'));
});

await step('npx welford experiment draws its charts from the installed package (PNG in headless Chromium)', async () => {
  const { stdout, stderr } = await runOk('npx', ['welford', 'experiment', 'batch-of-one', '--quick', '--out', 'welford-experiments'], project);
  expectQuiet('welford experiment', stderr);
  for (const ext of ['json', 'md', 'png']) if (!existsSync(join(project, 'welford-experiments', `batch-of-one.${ext}`))) throw new Error(`welford-experiments/batch-of-one.${ext} was not written:\n${tail(stdout)}`);
});

await step('browser bundles: init + fromArray + matmul, and training smallCnn, minified and gzipped', async () => {
  sizes = await measureBundles(project);
  const problems = sizes.flatMap((s) => unwantedSources(s, s.name === 'matmul' ? ['core'] : ['core', 'layers']).map((u) => `${s.name} bundle holds ${u}`));
  if (problems.length > 0) throw new Error(problems.join('\n  '));
  return sizes.map((s) => `${s.name} ${kB(s.bytes)} (${kB(s.gzipBytes)} gzipped, ${s.sources.length} files)`).join('; ');
});

finish();
