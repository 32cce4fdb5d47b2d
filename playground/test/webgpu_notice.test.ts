import { createServer, createLogger, type Logger } from 'vite';
import { afterEach, describe, expect, it } from 'vitest';
import { webgpuNotice } from '../webgpu_notice.ts';

describe('pnpm playground', () => {
  let close: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await close?.();
    close = null;
  });

  it('says which address to open, the one Vite really serves on, and that the browser needs WebGPU', async () => {
    const lines: string[] = [];
    const logger: Logger = { ...createLogger('silent'), info: (msg: string) => void lines.push(msg) };
    // Port 0: the system picks one, as Vite picks the next port when 5173 is taken.
    const server = await createServer({ configFile: false, root: new URL('..', import.meta.url).pathname, customLogger: logger, plugins: [webgpuNotice()], server: { port: 0, host: '127.0.0.1' } });
    close = () => server.close();
    await server.listen();
    server.printUrls();
    const url = server.resolvedUrls?.local[0];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(url).not.toBe('http://127.0.0.1:0/');
    const notice = lines.join('\n');
    expect(notice).toContain(`Open ${url} in a browser with WebGPU`);
    expect(notice).toMatch(/Chromium-based browser, or Firefox or Safari where WebGPU is enabled/);
  });
});
