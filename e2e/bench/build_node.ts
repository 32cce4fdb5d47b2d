// Bundles the Node benchmark runner (node_run.ts) with Vite into e2e/dist/bench-node/node_run.js:
// TF.js's ESM build (directory imports, which Node's loader refuses) and the workspace packages
// are bundled in, so `node e2e/dist/bench-node/node_run.js` needs only the `webgpu` package
// beside it. The same file runs on a GPU machine that has Node but not this workspace.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '..', 'dist', 'bench-node');

await build({
  root: here,
  configFile: false,
  logLevel: 'warn',
  ssr: { noExternal: true, target: 'node' },
  build: {
    ssr: join(here, 'node_run.ts'),
    outDir,
    emptyOutDir: true,
    target: 'node20',
    // Dawn is a native addon: it is loaded at run time, never bundled.
    rolldownOptions: { external: ['webgpu', /^node:/], output: { codeSplitting: false } },
  },
});
console.log(`built ${join(outDir, 'node_run.js')}`);
