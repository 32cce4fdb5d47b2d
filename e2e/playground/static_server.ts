// A plain static file server (sirv over node:http, no build tool behind it): what a static host
// does with a folder, so a page tested through it is tested as it is deployed. It logs every
// request with the status it got, so a test can tell what the page asked for.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import sirv from 'sirv';

/** One request the server answered. */
export interface ServedRequest {
  path: string;
  status: number;
}

export interface StaticServer {
  /** http://127.0.0.1:PORT (no trailing slash). */
  origin: string;
  /** Every request so far, in the order they were answered. */
  requests: ServedRequest[];
  close(): Promise<void>;
}

/** Serves the files under `root` on 127.0.0.1 (a free port); anything else is a 404. */
export async function serveStatic(root: string): Promise<StaticServer> {
  const files = sirv(root, { etag: true });
  const requests: ServedRequest[] = [];
  const server = createServer((req, res) => {
    res.on('close', () => requests.push({ path: req.url ?? '', status: res.statusCode }));
    files(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    // Chromium keeps connections alive: close them, or close() waits for them to time out.
    close: () => new Promise((resolve) => server.close(() => resolve()).closeAllConnections()),
  };
}
