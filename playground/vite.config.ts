// `pnpm playground` (vite) and `vite build`: relative URLs, so the build is served from any folder.
// Nothing else is set: welford's packages keep Node-only code out of browser bundles themselves,
// and its modules declare the names that label layers, which minification keeps.
import { defineConfig } from 'vite';
import { webgpuNotice } from './webgpu_notice.ts';

export default defineConfig({
  base: './',
  plugins: [webgpuNotice()],
  build: { chunkSizeWarningLimit: 1000 },
});
