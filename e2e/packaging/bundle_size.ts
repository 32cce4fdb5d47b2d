// How much a browser bundle of welford weighs, built by the consumer's own Vite with its
// defaults (minified): one that uses only init, fromArray and matmul, and one that trains
// smallCnn. The source map of each bundle says which installed files it holds, which shows
// whether tree-shaking kept the layers, the CLI and Node-only code out.
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runOk } from './processes.ts';

export interface BundleSize {
  name: string;
  /** Minified JavaScript, all chunks. */
  bytes: number;
  /** The same, gzipped (zlib's default level), chunk by chunk. */
  gzipBytes: number;
  /** The installed files the bundle holds code of (paths as the source maps name them). */
  sources: string[];
}

const ENTRIES: Record<string, string> = {
  matmul: `import { fromArray, init, matmul } from '@welford/core';
await init();
const c = matmul(fromArray([1, 2, 3, 4], [2, 2]), fromArray([5, 6, 7, 8], [2, 2]));
document.body.textContent = String(await c.toArray());
`,
  'small-cnn': `import { fromArray, init, randn, SGD } from '@welford/core';
import { fit, smallCnn } from '@welford/layers';
await init();
const model = smallCnn({ width: 8, classes: 4 });
const history = await fit(model, { train: [{ x: randn([8, 1, 16, 16]), y: fromArray([0, 1, 2, 3, 0, 1, 2, 3], [8]) }], epochs: 2, optimizer: new SGD(model.parameters(), { lr: 0.05 }) });
document.body.textContent = String(history.steps);
`,
};

/** Builds each entry with `npx vite build` in `project` and measures it. */
export async function measureBundles(project: string): Promise<BundleSize[]> {
  const sizes: BundleSize[] = [];
  mkdirSync(join(project, 'size'), { recursive: true });
  for (const [name, code] of Object.entries(ENTRIES)) {
    writeFileSync(join(project, 'size', `${name}.js`), code);
    const outDir = `size-dist/${name}`;
    // Vite's defaults for an app, with a script as the entry and hidden source maps to read back.
    const config = `export default { build: { outDir: ${JSON.stringify(outDir)}, emptyOutDir: true, sourcemap: 'hidden', rolldownOptions: { input: ${JSON.stringify(`size/${name}.js`)} } } };\n`;
    writeFileSync(join(project, 'size', `${name}.config.mjs`), config);
    await runOk('npx', ['vite', 'build', '--config', `size/${name}.config.mjs`, '--logLevel', 'warn'], project);
    const assets = join(project, outDir, 'assets');
    let bytes = 0;
    let gzipBytes = 0;
    const sources = new Set<string>();
    for (const file of readdirSync(assets)) {
      const path = join(assets, file);
      if (file.endsWith('.js')) {
        const text = readFileSync(path);
        bytes += text.length;
        gzipBytes += gzipSync(text).length;
      } else if (file.endsWith('.js.map')) {
        for (const s of (JSON.parse(readFileSync(path, 'utf8')) as { sources: string[] }).sources) sources.add(s);
      }
    }
    sizes.push({ name, bytes, gzipBytes, sources: [...sources].sort() });
  }
  return sizes;
}

/** The files of a browser bundle that should not be there: other packages than `allowed`, Dawn, Node-only modules. */
export function unwantedSources(size: BundleSize, allowed: string[]): string[] {
  return size.sources.filter((s) => {
    const welford = /@welford\/([\w-]+)\//.exec(s)?.[1];
    if (welford && !allowed.includes(welford)) return true;
    return /node_modules\/webgpu\/|\/node_adapter\.js$|^node:|\/node\/index\.js$/.test(s) && !s.endsWith('/no_node_adapter.js');
  });
}

export const kB = (bytes: number): string => `${(bytes / 1000).toFixed(1)} kB`;
