// A Vite plugin for `pnpm playground`: after Vite prints the addresses it serves on (the port may
// not be 5173 when that one is taken), say which one to open and what the browser needs.
import type { Plugin } from 'vite';

export function webgpuNotice(): Plugin {
  return {
    name: 'welford-webgpu-notice',
    configureServer(server) {
      const printUrls = server.printUrls.bind(server);
      server.printUrls = () => {
        printUrls();
        const url = server.resolvedUrls?.local[0] ?? server.resolvedUrls?.network[0];
        if (!url) return;
        server.config.logger.info(
          `\n  Open ${url} in a browser with WebGPU: Chrome, Edge or another Chromium-based browser, or Firefox or Safari where WebGPU is enabled.\n` +
            '  Without WebGPU the page offers the CPU backend, which is much slower.\n',
        );
      };
    },
  };
}
