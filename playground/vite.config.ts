// `pnpm playground` (vite) and `vite build`: relative URLs, so the build is served from any folder.
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  // Core reaches for node: modules only when it runs in Node; the page never loads them.
  // Class names are kept: a Module's typeName (its class name) labels layers in the views.
  build: { chunkSizeWarningLimit: 1000, rolldownOptions: { external: [/^node:/], output: { keepNames: true } } },
});
